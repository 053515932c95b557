//! Argon2 checks in memory that each hashing thread keeps from one check to the next while
//! checks are waiting. The crate's own verifier allocates the whole cost in memory (19 MiB by
//! default) for every check, and the kernel then faults in and zeroes it page by page: about a
//! tenth of a sign-in's hashing time under load (BENCHMARKS.md, issue 31). Argon2 overwrites
//! every block before it reads it, so a kept buffer needs no clearing between checks. A
//! hashing thread idle for a second gives its memory back (`release`, called by
//! `hash_pool`), so an idle server holds none of it.

use std::cell::RefCell;

use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq;

/// Blocks (1 KiB each) a thread keeps after a check: memberkey's own cost and imported hashes
/// up to 64 MiB. A costlier imported hash gets memory for its check alone.
const KEPT_BLOCKS: usize = 64 * 1024;

thread_local! {
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Frees this thread's kept memory.
pub(super) fn release() {
    MEMORY.with_borrow_mut(|memory| *memory = Vec::new());
}

/// Whether `secret` matches the Argon2 (id, i or d) hash `parsed`. A hash without a salt or
/// an output, or with parameters the crate refuses, matches nothing.
pub(super) fn verify(secret: &[u8], parsed: &PasswordHash) -> Result<bool, String> {
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return Ok(false);
    };
    let params = Params::try_from(parsed).map_err(|e| format!("argon2 parameters: {e}"))?;
    let algorithm = Algorithm::try_from(parsed.algorithm.as_str())
        .map_err(|e| format!("argon2 algorithm: {e}"))?;
    let version = match parsed.version {
        Some(v) => Version::try_from(v).map_err(|e| format!("argon2 version: {e}"))?,
        None => Version::default(),
    };
    let blocks = params.block_count();
    let argon = Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.len()];
    let hashed = MEMORY.with_borrow_mut(|memory| {
        if memory.len() < blocks {
            memory.resize(blocks, Block::new());
        }
        let hashed = argon.hash_password_into_with_memory(
            secret,
            salt.as_ref(),
            &mut out,
            &mut memory[..blocks],
        );
        if memory.len() > KEPT_BLOCKS {
            *memory = Vec::new();
        }
        hashed
    });
    match hashed {
        Ok(()) => Ok(bool::from(out.ct_eq(expected.as_bytes()))),
        // A wrong-length password or salt cannot have made this hash.
        Err(_) => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::PasswordHasher as _;

    fn hash(params: Params, algorithm: Algorithm, password: &[u8]) -> String {
        Argon2::new(algorithm, Version::V0x13, params)
            .hash_password(password)
            .unwrap()
            .to_string()
    }

    #[test]
    fn agrees_with_the_crates_own_check_for_every_variant_and_a_reused_buffer() {
        use argon2::password_hash::PasswordVerifier as _;
        let small = Params::new(64, 1, 1, None).unwrap();
        let larger = Params::new(256, 2, 2, Some(48)).unwrap();
        for (params, algorithm) in [
            (small.clone(), Algorithm::Argon2id),
            (larger.clone(), Algorithm::Argon2i),
            (small, Algorithm::Argon2d),
            (larger, Algorithm::Argon2id),
        ] {
            let stored = hash(params, algorithm, b"correct horse");
            let parsed = PasswordHash::new(&stored).unwrap();
            for (given, right) in [(&b"correct horse"[..], true), (b"correct horsf", false)] {
                assert_eq!(verify(given, &parsed).unwrap(), right, "{stored}");
                let crate_says = Argon2::default().verify_password(given, &parsed).is_ok();
                assert_eq!(crate_says, right);
            }
        }
    }

    #[test]
    fn a_hash_without_its_output_matches_nothing() {
        let stored = hash(
            Params::new(64, 1, 1, None).unwrap(),
            Algorithm::Argon2id,
            b"pw",
        );
        let cut = stored.rsplit_once('$').unwrap().0;
        let parsed = PasswordHash::new(cut).unwrap();
        assert!(!verify(b"pw", &parsed).unwrap());
    }
}
