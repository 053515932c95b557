//! Sealing with ChaCha20-Poly1305: staff-assigned passwords for the VIEW_PORTAL_PASSWORDS
//! right, staff TOTP secrets and staff sign-in challenges. What a value belongs to (the
//! profile ID, the staff user) is bound in as associated data, so a sealed value copied to
//! another row does not open. Member-chosen passwords are never sealed.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};

use crate::domain::{Password, ProfileId, Pseudonyms};
use crate::error::{AppError, AppResult};

#[derive(Clone)]
pub struct Sealer {
    cipher: ChaCha20Poly1305,
    /// Keys the pseudonyms of erased values; derived from the sealing key so no second
    /// secret must be kept with backups.
    pseudonyms: Pseudonyms,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(<key redacted>)")
    }
}

fn decode_key(raw: &str) -> Result<[u8; 32], String> {
    let bytes = URL_SAFE_NO_PAD
        .decode(raw.trim().trim_end_matches('='))
        .map_err(|e| format!("the sealing key is not base64url: {e}"))?;
    bytes
        .try_into()
        .map_err(|_| "the sealing key must be 32 bytes (43 base64url characters)".to_owned())
}

impl Sealer {
    pub fn from_key(key: [u8; 32]) -> Self {
        Self {
            cipher: ChaCha20Poly1305::new(&Key::from(key)),
            pseudonyms: Pseudonyms::derive(&key),
        }
    }

    /// The keyed hash for what must still be recognised after it is erased.
    pub fn pseudonyms(&self) -> &Pseudonyms {
        &self.pseudonyms
    }

    /// The key from `MEMBERKEY_SEALING_KEY` when given, else from `key_file`, which is
    /// created with mode 0600 on first start.
    pub fn load(configured: Option<&str>, key_file: &Path) -> Result<Self, String> {
        if let Some(raw) = configured {
            return decode_key(raw).map(Self::from_key);
        }
        match std::fs::read_to_string(key_file) {
            Ok(raw) => decode_key(&raw)
                .map(Self::from_key)
                .map_err(|e| format!("{}: {e}", key_file.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                getrandom::fill(&mut key).map_err(|e| e.to_string())?;
                write_private(key_file, &URL_SAFE_NO_PAD.encode(key))
                    .map_err(|e| format!("{}: {e}", key_file.display()))?;
                Ok(Self::from_key(key))
            }
            Err(e) => Err(format!("{}: {e}", key_file.display())),
        }
    }

    pub fn seal(&self, password: &Password, profile: ProfileId) -> AppResult<String> {
        self.seal_bytes(password.expose().as_bytes(), &profile.get().to_be_bytes())
    }

    /// `None` when the value does not open with this key for this profile.
    pub fn open(&self, sealed: &str, profile: ProfileId) -> Option<String> {
        String::from_utf8(self.open_bytes(sealed, &profile.get().to_be_bytes())?).ok()
    }

    /// Seals any value, bound to `context` (associated data): it opens only with the same
    /// key and the same context, so a value copied to another row or purpose does not open.
    pub fn seal_bytes(&self, msg: &[u8], context: &[u8]) -> AppResult<String> {
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).map_err(AppError::internal)?;
        let sealed = self
            .cipher
            .encrypt(&Nonce::from(nonce), Payload { msg, aad: context })
            .map_err(|_| AppError::internal("sealing failed"))?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(URL_SAFE_NO_PAD.encode(out))
    }

    /// The value [`Sealer::seal_bytes`] sealed for `context`; `None` when it does not open.
    pub fn open_bytes(&self, sealed: &str, context: &[u8]) -> Option<Vec<u8>> {
        let bytes = URL_SAFE_NO_PAD.decode(sealed).ok()?;
        if bytes.len() < 12 {
            return None;
        }
        let (nonce, body) = bytes.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().ok()?;
        self.cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: body,
                    aad: context,
                },
            )
            .ok()
    }
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::PasswordPolicy;

    #[test]
    fn seals_per_profile_and_key() {
        let sealer = Sealer::from_key([7; 32]);
        let pw =
            Password::parse("violet tram under the bridge", PasswordPolicy::default()).unwrap();
        let sealed = sealer.seal(&pw, ProfileId::from_db(5)).unwrap();
        assert!(!sealed.contains("violet"));
        assert_eq!(
            sealer.open(&sealed, ProfileId::from_db(5)).as_deref(),
            Some("violet tram under the bridge")
        );
        assert_eq!(
            sealer.open(&sealed, ProfileId::from_db(6)),
            None,
            "bound to its profile"
        );
        assert_eq!(
            Sealer::from_key([8; 32]).open(&sealed, ProfileId::from_db(5)),
            None
        );
    }

    #[test]
    fn key_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("memberkey.key");
        let a = Sealer::load(None, &path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let b = Sealer::load(None, &path).unwrap();
        let pw =
            Password::parse("violet tram under the bridge", PasswordPolicy::default()).unwrap();
        let sealed = a.seal(&pw, ProfileId::from_db(1)).unwrap();
        assert!(b.open(&sealed, ProfileId::from_db(1)).is_some());
        assert!(Sealer::load(Some("too-short"), &path).is_err());
    }
}
