/// Where a profile stands in the membership cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemberStatus {
    /// A paying member.
    Active,
    /// Not yet a member.
    Prospect,
    /// A former member whose membership ran out.
    Lapsed,
    /// On record without ever being a member.
    NonMember,
}

db_enum!(MemberStatus { Active => "ACTIVE", Prospect => "PROSPECT", Lapsed => "LAPSED", NonMember => "NON_MEMBER" });
