use std::str::FromStr;

/// Whether a profile is an organisation or a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProfileKind {
    Organization,
    Individual,
}

/// Where a profile stands in the membership cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemberStatus {
    Active,
    Prospect,
    Lapsed,
    NonMember,
}

macro_rules! db_enum {
    ($ty:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            /// The spelling stored in the database.
            pub fn as_db(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
        }

        impl FromStr for $ty {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok(Self::$variant),)+
                    other => Err(format!(concat!("unknown ", stringify!($ty), " {:?}"), other)),
                }
            }
        }
    };
}

db_enum!(ProfileKind { Organization => "ORGANIZATION", Individual => "INDIVIDUAL" });
db_enum!(MemberStatus { Active => "ACTIVE", Prospect => "PROSPECT", Lapsed => "LAPSED", NonMember => "NON_MEMBER" });
