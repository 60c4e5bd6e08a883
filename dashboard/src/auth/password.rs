//! Password hashes: PBKDF2-HMAC-SHA256 with a 16-byte random salt, stored as
//! `pbkdf2-sha256$ITERATIONS$SALT_HEX$HASH_HEX`; verification in constant time.
//! Also the random tokens (session ids, CSRF tokens, first passwords).

use rand::RngCore;
use sha2::Sha256;

/// OWASP's 2023 figure for PBKDF2-HMAC-SHA256.
pub const DEFAULT_ITERATIONS: u32 = 600_000;
const SCHEME: &str = "pbkdf2-sha256";

/// A parsed stored hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordHash {
    iterations: u32,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

impl PasswordHash {
    pub fn parse(s: &str) -> Result<Self, String> {
        let parts: Vec<&str> = s.split('$').collect();
        let [scheme, iters, salt, hash] = parts.as_slice() else {
            return Err(format!("expected {SCHEME}$ITERATIONS$SALT_HEX$HASH_HEX"));
        };
        if *scheme != SCHEME {
            return Err(format!("unknown scheme {scheme:?}, expected {SCHEME}"));
        }
        let iterations: u32 = iters
            .parse()
            .map_err(|_| "iterations: not a number".to_string())?;
        if !(1_000..=10_000_000).contains(&iterations) {
            return Err("iterations: must be 1000..=10000000".into());
        }
        let salt = from_hex(salt).ok_or("salt: not hex")?;
        let hash = from_hex(hash).ok_or("hash: not hex")?;
        if salt.len() < 8 || hash.len() != 32 {
            return Err("salt must be ≥ 8 bytes and hash 32 bytes".into());
        }
        Ok(Self {
            iterations,
            salt,
            hash,
        })
    }

    pub fn iterations(&self) -> u32 {
        self.iterations
    }

    pub fn verify(&self, password: &str) -> bool {
        let mut out = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), &self.salt, self.iterations, &mut out);
        constant_time_eq(&out, &self.hash)
    }
}

/// Hashes with [`DEFAULT_ITERATIONS`] and a fresh salt.
pub fn hash_password(password: &str) -> String {
    hash_password_with(password, DEFAULT_ITERATIONS)
}

/// Hashes with a chosen iteration count (≥ 1000) and a fresh salt.
pub fn hash_password_with(password: &str, iterations: u32) -> String {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), &salt, iterations, &mut out);
    format!("{SCHEME}${iterations}${}${}", to_hex(&salt), to_hex(&out))
}

/// Checks a password against a stored hash string; false for a malformed hash.
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::parse(stored)
        .map(|h| h.verify(password))
        .unwrap_or(false)
}

/// `bytes` random bytes from the thread's CSPRNG, as hex.
pub fn random_token(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut b);
    to_hex(&b)
}

/// Equal length and content, without an early exit.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_round_trip_and_salted() {
        let a = hash_password_with("s3cret!", 1000);
        let b = hash_password_with("s3cret!", 1000);
        assert_ne!(a, b, "salts differ");
        assert!(verify_password("s3cret!", &a));
        assert!(!verify_password("s3cret", &a));
        assert!(!verify_password("s3cret!", "pbkdf2-sha256$1000$zz$00"));
    }

    #[test]
    fn known_vector() {
        // RFC 7914 §11 PBKDF2-HMAC-SHA256 test vector (P="passwd", S="salt", c=1), first 32 bytes.
        let mut out = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<Sha256>(b"passwd", b"salt", 1, &mut out);
        assert_eq!(
            to_hex(&out),
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
        );
    }

    #[test]
    fn malformed_hashes_are_refused() {
        for bad in [
            "",
            "x",
            "pbkdf2-sha256$1$aa$bb",
            "md5$1000$0011223344556677$00",
            "pbkdf2-sha256$1000$00112233445566$00",
        ] {
            assert!(PasswordHash::parse(bad).is_err(), "{bad}");
        }
    }
}
