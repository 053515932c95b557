//! Moving in from another system: profiles, their organisation relations and optionally
//! their portal accounts, from a CSV file whose header names the columns (in any order).
//!
//! The import is keyed on the other system's ID (`external_id`), so running the same file
//! again updates and never duplicates. Every bad line is reported by line and column and the
//! good lines still import. A dry run does all the same checks and writes nothing.

use std::collections::HashMap;
use std::io::Read;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::foreign_hashes::HashLimits;
use super::{Services, audit, import};
use crate::domain::{
    AuditAction, AuditActor, EmailAddress, ExternalId, InvalidInput, MemberStatus, NewAuditEvent,
    OrganizationName, PersonName, Profile, ProfileId, ProfileKind, Username,
};
use crate::error::{AppError, AppResult};
use crate::store::{self, profiles::ProfileFields};

/// The columns an import file may have.
const COLUMNS: &[&str] = &[
    "external_id",
    "kind",
    "first_name",
    "last_name",
    "organization_name",
    "parent_external_id",
    "email",
    "member_status",
    "username",
    "password_hash",
];
/// The columns every file must have.
const REQUIRED: &[&str] = &["external_id", "kind"];
/// Rows written per transaction: large enough to be fast, small enough that progress moves
/// and a crash loses little.
const BATCH: usize = 500;

/// What an import did, or (in a dry run) would do.
#[derive(Debug, Default)]
pub struct ImportReport {
    /// Data lines read (the header not counted).
    pub lines: usize,
    /// Profiles created.
    pub created: usize,
    /// Existing profiles whose fields changed.
    pub updated: usize,
    /// Existing profiles already as the file has them.
    pub unchanged: usize,
    /// Profiles whose username or password hash was set.
    pub credentials_set: usize,
    /// The lines refused, in line order.
    pub problems: Vec<LineProblem>,
}

/// One refused line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineProblem {
    /// The line number in the file (the header is line 1).
    pub line: u64,
    /// The column at fault, if one is.
    pub column: Option<&'static str>,
    /// Why, e.g. `is not an email address`.
    pub message: String,
}

impl std::fmt::Display for LineProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.column {
            Some(c) => write!(f, "line {}, column {c}: {}", self.line, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

/// One line, parsed.
struct Row {
    line: u64,
    external_id: ExternalId,
    kind: ProfileKind,
    first_name: Option<String>,
    last_name: Option<String>,
    organization_name: Option<String>,
    email: Option<String>,
    /// `None` keeps an existing profile's status (a new one is ACTIVE).
    member_status: Option<MemberStatus>,
    parent: Option<ExternalId>,
    username: Option<Username>,
    password_hash: Option<String>,
}

/// Where a profile an external ID names stands: in the database already, or created by this
/// run.
#[derive(Clone)]
struct Known {
    id: Option<ProfileId>,
    kind: ProfileKind,
    has_parent: bool,
}

/// Reads the whole file, then imports it; `progress(done, total)` is called as lines are
/// written. A file whose header is unusable is refused as a whole (`BAD_USER_INPUT`).
pub async fn import_csv(
    svc: &Services,
    input: impl Read,
    dry_run: bool,
    progress: &mut dyn FnMut(usize, usize),
) -> AppResult<ImportReport> {
    let mut report = ImportReport::default();
    let rows = read_rows(input, &mut report)?;
    // Refused lines count as done: progress covers every line of the file.
    let total = report.lines;

    // Everything the file names, and what of it already exists.
    let mut known: HashMap<ExternalId, Known> = HashMap::new();
    let mut existing: HashMap<ExternalId, Profile> = HashMap::new();
    let mut wanted: Vec<&str> = rows.iter().map(|r| r.external_id.as_str()).collect();
    wanted.extend(
        rows.iter()
            .filter_map(|r| r.parent.as_ref().map(|p| p.as_str())),
    );
    wanted.sort_unstable();
    wanted.dedup();
    for chunk in wanted.chunks(BATCH) {
        for p in store::profiles::by_external_ids(&svc.db, chunk).await? {
            let Some(ext) = p.external_id.as_deref().map(ExternalId::parse) else {
                continue;
            };
            let ext = ext.map_err(|e| AppError::internal(e.message))?;
            let entry = Known {
                id: Some(p.id),
                kind: p.kind,
                has_parent: p.parent_id.is_some(),
            };
            known.insert(ext.clone(), entry);
            existing.insert(ext, p);
        }
    }
    // The file's word wins over the database's for what the file also describes.
    for r in &rows {
        let id = known.get(&r.external_id).and_then(|k| k.id);
        known.insert(
            r.external_id.clone(),
            Known {
                id,
                kind: r.kind,
                has_parent: r.parent.is_some(),
            },
        );
    }

    // Relations: a parent must be an organisation that is not itself related to another.
    let mut accepted: Vec<Row> = Vec::with_capacity(rows.len());
    for r in rows {
        if let Some(parent) = &r.parent {
            let refusal = match known.get(parent) {
                None => Some(format!(
                    "no profile with external ID {parent:?} is in this file or was imported before"
                )),
                Some(_) if parent == &r.external_id => {
                    Some("a profile cannot be its own parent".into())
                }
                Some(k) if k.kind != ProfileKind::Organization => Some(format!(
                    "{parent:?} is a person; related profiles belong to an organisation"
                )),
                Some(k) if k.has_parent => {
                    Some(format!("{parent:?} is itself related to another profile"))
                }
                Some(_) => None,
            };
            if let Some(message) = refusal {
                report.problems.push(LineProblem {
                    line: r.line,
                    column: Some("parent_external_id"),
                    message,
                });
                continue;
            }
        }
        accepted.push(r);
    }
    // Parents before their people, so each person finds its organisation's ID.
    accepted.sort_by_key(|r| (r.parent.is_some(), r.line));

    let mut done = total - accepted.len();
    progress(done, total);
    let mut batch_start = 0;
    while batch_start < accepted.len() {
        let batch = &accepted[batch_start..(batch_start + BATCH).min(accepted.len())];
        let txn = store::begin_write(&svc.db).await?;
        let now = svc.clock.now();
        for row in batch {
            match import_row(&txn, now, row, &existing, &mut known, dry_run, &svc.config).await? {
                Ok(outcome) => outcome.count(&mut report),
                Err(problem) => {
                    if let Some(k) = known.get_mut(&row.external_id)
                        && k.id.is_none()
                    {
                        // Its people cannot be related to a profile that was not created.
                        known.remove(&row.external_id);
                    }
                    report.problems.push(problem);
                }
            }
        }
        if dry_run {
            txn.rollback().await?;
        } else {
            txn.commit().await?;
        }
        done += batch.len();
        batch_start += batch.len();
        progress(done, total);
    }
    if !dry_run && report.created + report.updated > 0 {
        store::profiles::analyze_after_bulk_load(&svc.db).await?;
    }
    report.problems.sort_by_key(|p| p.line);
    Ok(report)
}

/// What one line came to.
struct Outcome {
    profile: Change,
    credentials_set: bool,
}

enum Change {
    Created,
    Updated,
    Unchanged,
}

impl Outcome {
    fn count(&self, report: &mut ImportReport) {
        match self.profile {
            Change::Created => report.created += 1,
            Change::Updated => report.updated += 1,
            Change::Unchanged => report.unchanged += 1,
        }
        if self.credentials_set {
            report.credentials_set += 1;
        }
    }
}

/// Writes one line inside the batch's transaction. A refusal of the line (a username held
/// by another profile, an organisation with people turned into a person) leaves nothing of
/// it behind, since checks run before writes; a database failure ends the whole import.
async fn import_row(
    txn: &store::Txn,
    now: DateTime<Utc>,
    row: &Row,
    existing: &HashMap<ExternalId, Profile>,
    known: &mut HashMap<ExternalId, Known>,
    dry_run: bool,
    config: &crate::config::Config,
) -> AppResult<Result<Outcome, LineProblem>> {
    let refuse = |column: &'static str, message: String| {
        Ok(Err(LineProblem {
            line: row.line,
            column: Some(column),
            message,
        }))
    };
    let parent_id = match &row.parent {
        Some(p) => match known.get(p).and_then(|k| k.id) {
            Some(id) => Some(id),
            // Only in a dry run: the parent would have been created by this run.
            None if dry_run => None,
            None => {
                return refuse(
                    "parent_external_id",
                    format!("its organisation {p:?} was not imported"),
                );
            }
        },
        None => None,
    };
    let current = existing.get(&row.external_id);
    let fields = ProfileFields {
        kind: row.kind,
        first_name: row.first_name.clone(),
        last_name: row.last_name.clone(),
        organization_name: row.organization_name.clone(),
        email: row.email.clone(),
        member_status: row
            .member_status
            .or(current.map(|c| c.member_status))
            .unwrap_or(MemberStatus::Active),
        parent_id,
        email_opt_out: current.is_some_and(|c| c.email_opt_out),
    };
    // Only an organisation can have people; it must stay an organisation of its own.
    if let Some(c) = current
        && c.kind == ProfileKind::Organization
        && (row.kind != ProfileKind::Organization || row.parent.is_some())
        && store::profiles::has_children(txn, c.id).await?
    {
        let column = if row.parent.is_some() {
            "parent_external_id"
        } else {
            "kind"
        };
        return refuse(
            column,
            "this organisation has related profiles in memberkey, so it must stay an organisation of its own".into(),
        );
    }
    // The username is checked before the profile is written, so a refusal leaves neither.
    if let Some(u) = &row.username
        && let Some(owner) = store::credentials::username_owner(txn, u.key()).await?
        && Some(owner) != current.map(|c| c.id)
    {
        return refuse(
            "username",
            format!(
                "{:?} is already the username of profile {owner}",
                u.as_str()
            ),
        );
    }
    // In a dry run a person whose organisation this run would create moves to it.
    let parent_pending = row.parent.is_some() && parent_id.is_none();
    let (profile_id, change) = match current {
        Some(c) if !parent_pending && ProfileFields::from_record(c) == fields => {
            (c.id, Change::Unchanged)
        }
        Some(c) => {
            store::profiles::update(txn, c.id, &fields, now).await?;
            if fields.member_status != c.member_status && !config.may_sign_in(fields.member_status)
            {
                // As for a change in the staff screens: a status that may not sign in ends
                // the member's open sessions.
                store::sessions::delete_all(txn, c.id, None).await?;
            }
            record_profile_event(txn, now, AuditAction::ProfileUpdated, c.id, row).await?;
            (c.id, Change::Updated)
        }
        None => {
            let p = store::profiles::insert_imported(txn, row.external_id.as_str(), &fields, now)
                .await?;
            record_profile_event(txn, now, AuditAction::ProfileCreated, p.id, row).await?;
            if let Some(k) = known.get_mut(&row.external_id) {
                // In a dry run the ID is rolled back with the batch; its people only need
                // to know the organisation would exist.
                k.id = (!dry_run).then_some(p.id);
            }
            (p.id, Change::Created)
        }
    };
    let account = import::ImportedAccount {
        username: row.username.as_ref(),
        password_hash: row.password_hash.as_deref(),
        replace_password: false,
    };
    let credentials_set = (row.username.is_some() || row.password_hash.is_some())
        && import::apply(txn, now, profile_id, account).await?;
    Ok(Ok(Outcome {
        profile: change,
        credentials_set,
    }))
}

async fn record_profile_event(
    txn: &store::Txn,
    now: DateTime<Utc>,
    action: AuditAction,
    id: ProfileId,
    row: &Row,
) -> AppResult<()> {
    let event = NewAuditEvent::new(action, AuditActor::System, None)
        .profile(id)
        .detail(json!({ "source": "IMPORT", "externalId": row.external_id.as_str() }));
    audit::record(txn, now, event).await?;
    Ok(())
}

/// Reads and parses every line; lines that do not parse go to `report.problems`.
fn read_rows(input: impl Read, report: &mut ImportReport) -> AppResult<Vec<Row>> {
    let header_error = |message: String| AppError::BadUserInput {
        field: "header".into(),
        message,
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(input);
    let header = reader
        .headers()
        .map_err(|e| header_error(format!("the first line cannot be read: {e}")))?
        .clone();
    let mut index: HashMap<&'static str, usize> = HashMap::new();
    for (i, name) in header.iter().enumerate() {
        let lower = name.to_ascii_lowercase();
        let Some(&column) = COLUMNS.iter().find(|c| **c == lower) else {
            let hint = COLUMNS
                .iter()
                .max_by(|a, b| {
                    strsim::jaro_winkler(a, &lower).total_cmp(&strsim::jaro_winkler(b, &lower))
                })
                .filter(|c| strsim::jaro_winkler(c, &lower) > 0.8)
                .map(|c| format!(" (did you mean {c}?)"))
                .unwrap_or_default();
            return Err(header_error(format!(
                "unknown column {name:?}{hint}; the columns are {}",
                COLUMNS.join(", ")
            )));
        };
        if index.insert(column, i).is_some() {
            return Err(header_error(format!("column {column} appears twice")));
        }
    }
    if let Some(missing) = REQUIRED.iter().find(|c| !index.contains_key(*c)) {
        return Err(header_error(format!(
            "the column {missing} is required (the header names the columns: {})",
            COLUMNS.join(", ")
        )));
    }

    let mut rows = Vec::new();
    let mut seen: HashMap<ExternalId, u64> = HashMap::new();
    let mut usernames: HashMap<String, u64> = HashMap::new();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                report.lines += 1;
                report.problems.push(LineProblem {
                    line,
                    column: None,
                    message: format!("cannot be read as CSV: {e}"),
                });
                continue;
            }
        }
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(str::is_empty) {
            continue;
        }
        report.lines += 1;
        let cell = |c: &str| {
            index
                .get(c)
                .and_then(|&i| record.get(i))
                .filter(|v| !v.is_empty())
        };
        match parse_row(line, &cell) {
            Ok(row) => {
                if let Some(first) = seen.insert(row.external_id.clone(), line) {
                    report.problems.push(LineProblem {
                        line,
                        column: Some("external_id"),
                        message: format!(
                            "{:?} is already on line {first}",
                            row.external_id.as_str()
                        ),
                    });
                    continue;
                }
                if let Some(u) = &row.username
                    && let Some(first) = usernames.insert(u.key().to_owned(), line)
                {
                    report.problems.push(LineProblem {
                        line,
                        column: Some("username"),
                        message: format!("{:?} is already on line {first}", u.as_str()),
                    });
                    continue;
                }
                rows.push(row);
            }
            Err(p) => report.problems.push(p),
        }
    }
    Ok(rows)
}

fn parse_row<'r>(line: u64, cell: &dyn Fn(&str) -> Option<&'r str>) -> Result<Row, LineProblem> {
    let bad = |column: &'static str, e: InvalidInput| LineProblem {
        line,
        column: Some(column),
        message: e.message,
    };
    fn opt<T>(
        v: Option<&str>,
        column: &'static str,
        parse: impl Fn(&str) -> Result<T, InvalidInput>,
        bad: &dyn Fn(&'static str, InvalidInput) -> LineProblem,
    ) -> Result<Option<T>, LineProblem> {
        v.map(|s| parse(s).map_err(|e| bad(column, e))).transpose()
    }
    let external_id =
        ExternalId::parse(cell("external_id").unwrap_or("")).map_err(|e| bad("external_id", e))?;
    let kind = cell("kind")
        .ok_or_else(|| InvalidInput::new("is required (ORGANIZATION or INDIVIDUAL)"))
        .and_then(|k| {
            k.to_ascii_uppercase()
                .parse::<ProfileKind>()
                .map_err(|_| InvalidInput::new(format!("{k:?} is not ORGANIZATION or INDIVIDUAL")))
        })
        .map_err(|e| bad("kind", e))?;
    let person = |s: &str| PersonName::parse(s).map(|n| n.as_str().to_owned());
    let first_name = opt(cell("first_name"), "first_name", person, &bad)?;
    let last_name = opt(cell("last_name"), "last_name", person, &bad)?;
    let organization_name = opt(
        cell("organization_name"),
        "organization_name",
        |s| OrganizationName::parse(s).map(|n| n.as_str().to_owned()),
        &bad,
    )?;
    let email = opt(
        cell("email"),
        "email",
        |s| EmailAddress::parse(s).map(|e| e.to_string()),
        &bad,
    )?;
    let member_status = opt(
        cell("member_status"),
        "member_status",
        |s| {
            s.to_ascii_uppercase().parse::<MemberStatus>().map_err(|_| {
                InvalidInput::new(format!(
                    "{s:?} is not one of ACTIVE, PROSPECT, LAPSED, NON_MEMBER"
                ))
            })
        },
        &bad,
    )?;
    let parent = opt(
        cell("parent_external_id"),
        "parent_external_id",
        ExternalId::parse,
        &bad,
    )?;
    let username = opt(cell("username"), "username", Username::parse, &bad)?;
    let password_hash = cell("password_hash").map(str::to_owned);
    if let Some(h) = &password_hash
        && let Err(why) = HashLimits::IMPORT.check(h)
    {
        return Err(bad(
            "password_hash",
            InvalidInput::new(format!("the password hash {why}")),
        ));
    }
    match kind {
        ProfileKind::Organization if organization_name.is_none() => {
            return Err(bad(
                "organization_name",
                InvalidInput::new("an organisation needs an organisation name"),
            ));
        }
        ProfileKind::Individual if first_name.is_none() && last_name.is_none() => {
            return Err(bad(
                "last_name",
                InvalidInput::new("a person needs a first or last name"),
            ));
        }
        _ => {}
    }
    Ok(Row {
        line,
        external_id,
        kind,
        first_name,
        last_name,
        organization_name,
        email,
        member_status,
        parent,
        username,
        password_hash,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> (AppResult<Vec<Row>>, ImportReport) {
        let mut report = ImportReport::default();
        let rows = read_rows(text.as_bytes(), &mut report);
        (rows, report)
    }

    #[test]
    fn columns_come_in_any_order_and_bad_cells_name_line_and_column() {
        let (rows, report) = read(
            "Kind,external_id,email,last_name\nINDIVIDUAL,p1,jens@example.org,Hansen\nINDIVIDUAL,p2,not-an-address,Berg\nPERSON,p3,,Lund\nINDIVIDUAL,p1,,Again\n",
        );
        let rows = rows.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].email.as_deref(), Some("jens@example.org"));
        let problems: Vec<_> = report.problems.iter().map(|p| (p.line, p.column)).collect();
        assert_eq!(
            problems,
            [
                (3, Some("email")),
                (4, Some("kind")),
                (5, Some("external_id"))
            ]
        );
        assert_eq!(report.lines, 4);
    }

    #[test]
    fn an_unknown_or_missing_column_refuses_the_file() {
        let (rows, _) = read("external_id,kind,emial\n");
        let Err(AppError::BadUserInput { message, .. }) = rows else {
            panic!("refused")
        };
        assert!(message.contains("did you mean email?"), "{message}");
        assert!(matches!(
            read("external_id,last_name\n").0,
            Err(AppError::BadUserInput { .. })
        ));
    }

    #[test]
    fn bcrypt_and_phc_hashes_are_accepted_by_shape() {
        let (rows, report) = read(
            "external_id,kind,last_name,password_hash\np1,INDIVIDUAL,A,$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy\np2,INDIVIDUAL,B,$2b$31$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy\np3,INDIVIDUAL,C,md5:abc\n",
        );
        assert_eq!(rows.unwrap().len(), 1);
        let lines: Vec<_> = report.problems.iter().map(|p| (p.line, p.column)).collect();
        assert_eq!(
            lines,
            [(3, Some("password_hash")), (4, Some("password_hash"))]
        );
    }
}
