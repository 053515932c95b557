/// Whether a profile is an organisation or a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProfileKind {
    /// A member organisation.
    Organization,
    /// A person, often related to an organisation.
    Individual,
}

db_enum!(ProfileKind { Organization => "ORGANIZATION", Individual => "INDIVIDUAL" });
