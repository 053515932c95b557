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

use crate::domain::{
    AuditAction, AuditActor, ExternalId, MemberStatus, NewAuditEvent, Profile, ProfileId,
    ProfileKind,
};
use crate::error::{AppError, AppResult};
use crate::services::{Services, audit, import};
use crate::store::{self, profiles::ProfileFields};

mod csv_rows;

use csv_rows::{Row, read_rows};

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
            store::rollback(txn).await?;
        } else {
            store::commit(txn).await?;
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
