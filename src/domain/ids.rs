//! Newtype ids, so a user id can never be passed where a ticket id is meant.
//! Pure: storage converts them at its edge.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl From<i64> for $name {
            fn from(id: i64) -> Self {
                Self(id)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

id_type!(
    /// A ticket, shown to people as `#1234`.
    TicketId,
    /// A person: customer, agent or admin.
    UserId,
    /// A customer organization (company).
    OrgId,
    /// A group of agents, such as *Suporte* or *Tech*.
    GroupId,
    /// A public reply or internal note.
    CommentId,
    /// A stored file.
    AttachmentId,
);

/// What a person may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Customer,
    Agent,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Customer, Role::Agent, Role::Admin];

    pub fn key(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Agent => "agent",
            Role::Admin => "admin",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.key() == key)
    }

    /// Agents and admins work tickets; customers only see their own.
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Agent | Role::Admin)
    }
}

/// A normalised e-mail address: trimmed, with a lower-cased copy for lookups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email {
    pub original: String,
    pub lower: String,
}

impl Email {
    /// Accepts `local@domain.tld` without spaces; a deliberately small check,
    /// since the host platform has already verified its users' addresses.
    pub fn parse(input: &str) -> Option<Self> {
        let trimmed = input.trim();
        let (local, domain) = trimmed.split_once('@')?;
        let valid = !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && trimmed.len() <= 254
            && !trimmed.chars().any(|c| c.is_whitespace() || c.is_control());
        valid.then(|| Self {
            original: trimmed.to_owned(),
            lower: trimmed.to_lowercase(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        let email = Email::parse("  Ana.Souza@Cliente.COM.br ").expect("valid");
        assert_eq!(email.original, "Ana.Souza@Cliente.COM.br");
        assert_eq!(email.lower, "ana.souza@cliente.com.br");
        for bad in [
            "",
            "ana",
            "ana@",
            "@x.com",
            "ana@localhost",
            "a b@x.com",
            "a@b@c.com",
            "a@.com",
        ] {
            assert!(Email::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn roles_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::from_key(role.key()), Some(role));
        }
        assert!(Role::Admin.is_staff() && !Role::Customer.is_staff());
    }
}
