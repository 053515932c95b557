//! `serve --demo`: a realistic sample for a newcomer to explore in GraphiQL. It only ever
//! seeds an empty database.

use crate::domain::{MemberStatus, ProfileKind, Right, Token};
use crate::error::{AppError, AppResult};
use crate::services::{self, RequestMeta, Services};
use crate::store::{self, profiles::ProfileFields};

/// What the seed created, for the start-up message.
pub struct DemoLogin {
    pub username: String,
    pub password: String,
    /// The client ID of the demo site that signs members in through memberkey
    /// (`cargo run --example oidc_site`).
    pub site_client_id: String,
}

/// Where the example site (`examples/oidc_site.rs`) listens.
pub const DEMO_SITE: &str = "http://127.0.0.1:8090";

struct Org {
    name: &'static str,
    email: Option<&'static str>,
    status: MemberStatus,
    people: &'static [(&'static str, &'static str, Option<&'static str>)],
}

const ORGS: &[Org] = &[
    Org {
        name: "Harbour Lights Bakery",
        email: Some("office@harbourlights.example"),
        status: MemberStatus::Active,
        people: &[
            ("Maria", "Jensen", Some("office@harbourlights.example")),
            ("Tom", "Jensen", Some("tom@harbourlights.example")),
            ("Aisha", "Okafor", None),
        ],
    },
    Org {
        name: "Riverside Dental Clinic",
        email: Some("front.desk@riversidedental.example"),
        status: MemberStatus::Active,
        people: &[
            ("Jonas", "Lindqvist", Some("jonas@riversidedental.example")),
            ("Priya", "Raman", Some("priya@riversidedental.example")),
        ],
    },
    Org {
        name: "Northgate Logistics GmbH",
        email: Some("info@northgate.example"),
        status: MemberStatus::Lapsed,
        people: &[("Klaus", "Becker", Some("info@northgate.example"))],
    },
    Org {
        name: "Café Müller & Söhne",
        email: None,
        status: MemberStatus::Prospect,
        people: &[("Lena", "Müller", None)],
    },
];

const INDIVIDUALS: &[(&str, &str, Option<&str>, MemberStatus)] = &[
    (
        "Sam",
        "Whitfield",
        Some("sam.whitfield@example.org"),
        MemberStatus::Active,
    ),
    (
        "Chen",
        "Wei",
        Some("chen.wei@example.org"),
        MemberStatus::Active,
    ),
    ("Fatima", "Haddad", None, MemberStatus::NonMember),
    (
        "Oliver",
        "Anderson",
        Some("oliver.anderson@example.org"),
        MemberStatus::Prospect,
    ),
];

/// Seeds the sample when there are no profiles and no staff users yet. Returns the staff
/// sign-in it created, or `None` when the database already had data.
pub async fn seed_if_empty(svc: &Services) -> AppResult<Option<DemoLogin>> {
    if store::profiles::count_all(&svc.db).await? > 0 || store::staff::count(&svc.db).await? > 0 {
        return Ok(None);
    }
    let now = svc.clock.now();
    let txn = store::begin_write(&svc.db).await?;
    let person = |first: &str, last: &str, email: Option<&str>, status, parent| ProfileFields {
        kind: ProfileKind::Individual,
        first_name: Some(first.into()),
        last_name: Some(last.into()),
        organization_name: None,
        email: email.map(Into::into),
        member_status: status,
        parent_id: parent,
        email_opt_out: false,
    };
    for org in ORGS {
        let fields = ProfileFields {
            kind: ProfileKind::Organization,
            first_name: None,
            last_name: None,
            organization_name: Some(org.name.into()),
            email: org.email.map(Into::into),
            member_status: org.status,
            parent_id: None,
            email_opt_out: false,
        };
        let created = store::profiles::insert(&txn, &fields, now).await?;
        for (first, last, email) in org.people {
            store::profiles::insert(
                &txn,
                &person(first, last, *email, org.status, Some(created.id)),
                now,
            )
            .await?;
        }
    }
    for (first, last, email, status) in INDIVIDUALS {
        store::profiles::insert(&txn, &person(first, last, *email, *status, None), now).await?;
    }
    store::commit(txn).await?;

    let token = Token::generate().map_err(AppError::internal)?;
    let password: String = token.expose().chars().take(20).collect();
    let username = "admin".to_owned();
    services::staff::create(
        svc,
        None,
        &RequestMeta::default(),
        &username,
        None,
        &password,
        &Right::ALL,
    )
    .await?;
    let site = services::oidc::sites::SiteInput {
        name: "Demo site".into(),
        redirect_uris: vec![format!("{DEMO_SITE}/callback")],
        post_logout_redirect_uris: vec![format!("{DEMO_SITE}/")],
        allowed_member_statuses: None,
    };
    let (site, _) =
        services::oidc::sites::create(svc, None, &RequestMeta::default(), site, false).await?;
    Ok(Some(DemoLogin {
        username,
        password,
        site_client_id: site.client_id,
    }))
}
