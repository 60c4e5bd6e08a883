//! Who may do what: roles ([`Role`]), the user table ([`Users`]), password hashing
//! (PBKDF2-SHA256 with a random salt, [`password`]) and sessions ([`SessionStore`]).
//! Secrets (passwords, session tokens) are never logged or audited.

pub mod password;
pub mod session;
pub mod throttle;

pub use password::{hash_password, hash_password_with, verify_password, PasswordHash};
pub use session::{Session, SessionStore};
pub use throttle::LoginThrottle;

pub use screen::Role;

use crate::config::DashboardConfig;
use std::collections::HashMap;

struct UserEntry {
    role: Role,
    hash: PasswordHash,
}

/// The user table, read from config.
pub struct Users {
    by_name: HashMap<String, UserEntry>,
    /// A valid hash to verify against for unknown names, so a wrong name costs as much as a
    /// wrong password; made on first use with the costliest configured iteration count.
    decoy: std::sync::OnceLock<PasswordHash>,
    decoy_iterations: u32,
}

/// The generated first admin when no config was given; `warroom up` prints it once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstAdmin {
    pub name: String,
    pub password: String,
}

impl Users {
    /// From a validated config.
    pub fn from_config(cfg: &DashboardConfig) -> Self {
        let by_name: HashMap<String, UserEntry> = cfg
            .users
            .iter()
            .map(|u| {
                let hash =
                    PasswordHash::parse(&u.password_hash).expect("validated by DashboardConfig");
                (u.name.clone(), UserEntry { role: u.role, hash })
            })
            .collect();
        let decoy_iterations = by_name
            .values()
            .map(|u| u.hash.iterations())
            .max()
            .unwrap_or(1000);
        Self {
            by_name,
            decoy: Default::default(),
            decoy_iterations,
        }
    }

    /// No config: one `admin` with a random 20-character password, returned to print.
    pub fn first_admin() -> (Self, FirstAdmin) {
        let password = password::random_token(10);
        let hash = PasswordHash::parse(&hash_password(&password)).expect("own format");
        let mut by_name = HashMap::new();
        by_name.insert(
            "admin".to_string(),
            UserEntry {
                role: Role::Admin,
                hash,
            },
        );
        (
            Self {
                by_name,
                decoy: Default::default(),
                decoy_iterations: password::DEFAULT_ITERATIONS,
            },
            FirstAdmin {
                name: "admin".into(),
                password,
            },
        )
    }

    /// The user's role when the password is right.
    pub fn check(&self, name: &str, password: &str) -> Option<Role> {
        match self.by_name.get(name) {
            Some(u) => u.hash.verify(password).then_some(u.role),
            None => {
                let decoy = self.decoy.get_or_init(|| {
                    let h = hash_password_with(&password::random_token(8), self.decoy_iterations);
                    PasswordHash::parse(&h).expect("own format")
                });
                let _ = decoy.verify(password);
                None
            }
        }
    }

    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}
