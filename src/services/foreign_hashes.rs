//! Password hashes made by other systems (imported accounts): which ones memberkey accepts,
//! and verifying them. A hash's cost parameters are chosen by whoever made the file, so each
//! is capped near memberkey's own Argon2id cost: one sign-in against an imported account may
//! never tie a core up for seconds or take gigabytes.
//!
//! The caps, with memberkey's default hash (Argon2id m=19456 KiB, t=2, p=1, about 17 ms) as
//! the unit and a margin of 4 (or the configured settings × 4, when those are higher):
//! - Argon2 (id, i, d): memory m ≤ 4 × 19456 KiB (76 MiB), m × t ≤ 4 × 19456 × 2, p ≤ 8;
//! - scrypt: memory 128 × r × 2^ln ≤ 76 MiB, work 2^ln × r × p ≤ 2^20, p ≤ 16;
//! - PBKDF2-SHA256/512: at most 1,000,000 iterations (OWASP's 2023 advice is 600,000);
//! - bcrypt (`$2a$`, `$2b$`, `$2y$`): cost ≤ 12.
//!
//! A hash must also be whole: salt and hash output present, so a line cut short at a comma
//! is refused at import instead of becoming an account that can never sign in.

use argon2::password_hash::PasswordVerifier as _;
use argon2::password_hash::phc::PasswordHash;

use crate::config::Argon2Settings;

/// The margin over memberkey's own cost that an imported hash may have.
const MARGIN: u64 = 4;
const DEFAULT_M_KIB: u64 = 19_456;
const DEFAULT_T: u64 = 2;
const MAX_ARGON2_P: u64 = 8;
const MAX_SCRYPT_WORK_LOG2: u64 = 20;
const MAX_SCRYPT_P: u64 = 16;
const MAX_PBKDF2_ROUNDS: u64 = 1_000_000;
const MAX_BCRYPT_COST: u32 = 12;
/// Longer outputs buy nothing and cost hashing time.
const MAX_OUTPUT_BYTES: usize = 64;

/// What an imported hash may cost.
#[derive(Debug, Clone, Copy)]
pub struct HashLimits {
    argon2_m_kib: u64,
    argon2_m_t: u64,
    scrypt_memory_bytes: u64,
}

impl HashLimits {
    /// The limits at memberkey's default Argon2 settings: what `profiles import` and
    /// `credentials import` accept.
    pub const IMPORT: HashLimits = HashLimits {
        argon2_m_kib: MARGIN * DEFAULT_M_KIB,
        argon2_m_t: MARGIN * DEFAULT_M_KIB * DEFAULT_T,
        scrypt_memory_bytes: MARGIN * DEFAULT_M_KIB * 1024,
    };

    /// The limits a sign-in applies: the import limits, or the configured settings with the
    /// same margin when those are higher, so no hash this service made itself is refused.
    pub fn for_settings(s: &Argon2Settings) -> Self {
        let m = u64::from(s.memory_kib);
        let t = u64::from(s.iterations);
        let base = Self::IMPORT;
        HashLimits {
            argon2_m_kib: base.argon2_m_kib.max(MARGIN * m),
            argon2_m_t: base.argon2_m_t.max(MARGIN * m * t),
            scrypt_memory_bytes: base.scrypt_memory_bytes.max(MARGIN * m * 1024),
        }
    }

    /// Accepts a hash memberkey can verify within these limits, or says why not in words for
    /// an import report.
    pub fn check(&self, hash: &str) -> Result<(), String> {
        if let Some(cost) = bcrypt_cost(hash) {
            if cost > MAX_BCRYPT_COST {
                return Err(format!(
                    "bcrypt cost {cost} is over the limit of {MAX_BCRYPT_COST}"
                ));
            }
            return hash
                .parse::<bcrypt::HashParts>()
                .map(|_| ())
                .map_err(|_| "is not a whole bcrypt hash".into());
        }
        let parsed = PasswordHash::new(hash).map_err(|_| {
            "is not a PHC string ($algorithm$params$salt$hash) or a bcrypt hash".to_owned()
        })?;
        let (Some(_), Some(output)) = (&parsed.salt, &parsed.hash) else {
            return Err("has no salt or no hash part: was the line cut short at a comma?".into());
        };
        if output.len() > MAX_OUTPUT_BYTES {
            return Err(format!(
                "has a {}-byte hash output; at most {MAX_OUTPUT_BYTES} are accepted",
                output.len()
            ));
        }
        let param = |name: &str| -> Result<u64, String> {
            parsed
                .params
                .get_decimal(name)
                .map(u64::from)
                .ok_or_else(|| format!("lacks the {name} parameter"))
        };
        let over = |what: &str, value: u64, limit: u64| -> Result<(), String> {
            if value > limit {
                Err(format!("{what} {value} is over the limit of {limit}"))
            } else {
                Ok(())
            }
        };
        match parsed.algorithm.as_str() {
            "argon2id" | "argon2i" | "argon2d" => {
                let (m, t, p) = (param("m")?, param("t")?, param("p")?);
                over("Argon2 memory (m, KiB)", m, self.argon2_m_kib)?;
                over("Argon2 memory × passes (m × t)", m * t, self.argon2_m_t)?;
                over("Argon2 lanes (p)", p, MAX_ARGON2_P)?;
                argon2::Params::try_from(&parsed)
                    .map(|_| ())
                    .map_err(|e| format!("has invalid Argon2 parameters ({e})"))
            }
            "scrypt" => {
                let (ln, r, p) = (param("ln")?, param("r")?, param("p")?);
                if ln == 0 || ln >= 32 || r == 0 || p == 0 {
                    return Err("has invalid scrypt parameters".into());
                }
                over(
                    "scrypt memory (128 × r × 2^ln bytes)",
                    128 * r * (1u64 << ln),
                    self.scrypt_memory_bytes,
                )?;
                over(
                    "scrypt work (2^ln × r × p)",
                    (1u64 << ln) * r * p,
                    1 << MAX_SCRYPT_WORK_LOG2,
                )?;
                over("scrypt parallelism (p)", p, MAX_SCRYPT_P)
            }
            "pbkdf2-sha256" | "pbkdf2-sha512" => {
                over("PBKDF2 iterations (i)", param("i")?, MAX_PBKDF2_ROUNDS)
            }
            other => Err(format!(
                "uses {other:?}; accepted are Argon2, PBKDF2-SHA256/512, scrypt and bcrypt"
            )),
        }
    }
}

/// The cost of a bcrypt hash (`$2a$`, `$2b$` or `$2y$`), or `None` for anything else. bcrypt
/// hashes are not PHC strings, so they are told apart by their prefix.
fn bcrypt_cost(hash: &str) -> Option<u32> {
    let rest = ["$2a$", "$2b$", "$2y$"]
        .iter()
        .find_map(|p| hash.strip_prefix(p))?;
    let (cost, _) = rest.split_once('$')?;
    (cost.len() == 2).then(|| cost.parse().ok()).flatten()
}

/// Verifies `secret` against a hash [`HashLimits::check`] accepted. Like every bcrypt
/// implementation, bcrypt reads only the first 72 bytes: the old system truncated the same way.
pub fn verify(secret: &[u8], hash: &str) -> Result<bool, String> {
    if bcrypt_cost(hash).is_some() {
        return bcrypt::verify(secret, hash).map_err(|e| format!("bcrypt: {e}"));
    }
    let parsed = PasswordHash::new(hash).map_err(|e| format!("stored hash unreadable: {e}"))?;
    let ok = match parsed.algorithm.as_str() {
        "argon2id" | "argon2i" | "argon2d" => return super::hash_memory::verify(secret, &parsed),
        "pbkdf2-sha256" | "pbkdf2-sha512" => {
            pbkdf2::Pbkdf2::default().verify_password(secret, &parsed)
        }
        "scrypt" => scrypt::Scrypt::default().verify_password(secret, &parsed),
        other => {
            return Err(format!(
                "stored hash uses an unsupported algorithm {other:?}"
            ));
        }
    };
    Ok(ok.is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(hash: &str) -> String {
        HashLimits::IMPORT.check(hash).expect_err(hash)
    }

    const SALT: &str = "c2FsdHNhbHRzYWx0c2FsdA";
    const OUT: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

    #[test]
    fn costs_over_the_caps_are_refused_for_every_scheme() {
        let argon =
            |m: u32, t: u32, p: u32| format!("$argon2id$v=19$m={m},t={t},p={p}${SALT}${OUT}");
        assert!(HashLimits::IMPORT.check(&argon(19_456, 2, 1)).is_ok());
        assert!(HashLimits::IMPORT.check(&argon(65_536, 2, 4)).is_ok());
        assert!(refused(&argon(4 * 1024 * 1024, 1, 1)).contains("memory"));
        assert!(refused(&argon(19_456, 20, 1)).contains("m × t"));
        assert!(refused(&argon(19_456, 2, 64)).contains("lanes"));
        let scrypt = |ln: u32, r: u32, p: u32| format!("$scrypt$ln={ln},r={r},p={p}${SALT}${OUT}");
        assert!(HashLimits::IMPORT.check(&scrypt(15, 8, 1)).is_ok());
        assert!(refused(&scrypt(17, 8, 1)).contains("memory"));
        assert!(refused(&scrypt(14, 8, 160)).contains("work"));
        let pbkdf2 = |i: u32| format!("$pbkdf2-sha256$i={i}${SALT}${OUT}");
        assert!(HashLimits::IMPORT.check(&pbkdf2(600_000)).is_ok());
        assert!(refused(&pbkdf2(5_000_000)).contains("iterations"));
        let bcrypt = |cost: u32| {
            format!("$2b${cost:02}$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy")
        };
        assert!(HashLimits::IMPORT.check(&bcrypt(10)).is_ok());
        assert!(refused(&bcrypt(13)).contains("cost"));
    }

    #[test]
    fn a_hash_cut_short_is_refused() {
        // What an unquoted comma leaves of an Argon2 hash in a CSV cell.
        assert!(refused("$argon2id$v=19$m=19456").contains("cut short"));
        assert!(refused("$pbkdf2-sha256$i=600000").contains("cut short"));
        assert!(HashLimits::IMPORT.check("md5:abc").is_err());
    }

    #[test]
    fn higher_configured_settings_raise_the_sign_in_limits_only() {
        let big = Argon2Settings {
            memory_kib: 262_144,
            iterations: 3,
            parallelism: 1,
        };
        let own = format!("$argon2id$v=19$m=262144,t=3,p=1${SALT}${OUT}");
        assert!(HashLimits::IMPORT.check(&own).is_err());
        assert!(HashLimits::for_settings(&big).check(&own).is_ok());
    }
}
