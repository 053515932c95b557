use std::str::FromStr;

/// A staff right. Each guards a group of fields and mutations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Right {
    /// Create and edit profiles.
    ManageProfiles,
    /// Set, remove and unlock members' portal credentials, and see their metadata.
    ManagePortalCredentials,
    /// Send password-reset emails and issue one-time set-password links.
    SendPasswordResets,
    /// Compose and send mass communications.
    SendMassCommunications,
    /// See a staff-assigned password while it is in force; never a member-chosen one.
    ViewPortalPasswords,
    /// List, create, unlock and deactivate staff users, and change their rights.
    ManageStaff,
    /// Read the audit log.
    ViewAuditLog,
    /// View the portal as a member, in a read-only session of at most 15 minutes.
    ImpersonateMembers,
    /// Export a person's data, and erase a person, at their request.
    ManagePersonalData,
    /// Register the association's sites that sign members in through memberkey (OpenID
    /// Connect clients), and give them new secrets.
    ManageConnectedSites,
}

impl Right {
    /// Every right, in declaration order.
    pub const ALL: [Right; 10] = [
        Right::ManageProfiles,
        Right::ManagePortalCredentials,
        Right::SendPasswordResets,
        Right::SendMassCommunications,
        Right::ViewPortalPasswords,
        Right::ManageStaff,
        Right::ViewAuditLog,
        Right::ImpersonateMembers,
        Right::ManagePersonalData,
        Right::ManageConnectedSites,
    ];

    /// The stored and command-line spelling, e.g. `MANAGE_STAFF`.
    pub fn as_str(self) -> &'static str {
        match self {
            Right::ManageProfiles => "MANAGE_PROFILES",
            Right::ManagePortalCredentials => "MANAGE_PORTAL_CREDENTIALS",
            Right::SendPasswordResets => "SEND_PASSWORD_RESETS",
            Right::SendMassCommunications => "SEND_MASS_COMMUNICATIONS",
            Right::ViewPortalPasswords => "VIEW_PORTAL_PASSWORDS",
            Right::ManageStaff => "MANAGE_STAFF",
            Right::ViewAuditLog => "VIEW_AUDIT_LOG",
            Right::ImpersonateMembers => "IMPERSONATE_MEMBERS",
            Right::ManagePersonalData => "MANAGE_PERSONAL_DATA",
            Right::ManageConnectedSites => "MANAGE_CONNECTED_SITES",
        }
    }
}

impl FromStr for Right {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_uppercase().replace('-', "_");
        Right::ALL
            .into_iter()
            .find(|r| r.as_str() == wanted)
            .ok_or_else(|| {
                let names: Vec<_> = Right::ALL.iter().map(|r| r.as_str()).collect();
                format!("unknown right {s:?}; expected one of {}", names.join(", "))
            })
    }
}
