//! Reading the CSV file: its header (columns in any order, unknown ones refused with a
//! suggestion) and each line into a checked row, with every problem named by line and column.

use std::collections::HashMap;
use std::io::Read;

use super::{ImportReport, LineProblem};
use crate::domain::{
    EmailAddress, ExternalId, InvalidInput, MemberStatus, OrganizationName, PersonName,
    ProfileKind, Username,
};
use crate::error::{AppError, AppResult};
use crate::services::foreign_hashes::HashLimits;

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

/// One line, parsed.
pub(super) struct Row {
    pub(super) line: u64,
    pub(super) external_id: ExternalId,
    pub(super) kind: ProfileKind,
    pub(super) first_name: Option<String>,
    pub(super) last_name: Option<String>,
    pub(super) organization_name: Option<String>,
    pub(super) email: Option<String>,
    /// `None` keeps an existing profile's status (a new one is ACTIVE).
    pub(super) member_status: Option<MemberStatus>,
    pub(super) parent: Option<ExternalId>,
    pub(super) username: Option<Username>,
    pub(super) password_hash: Option<String>,
}

/// Reads and parses every line; lines that do not parse go to `report.problems`.
pub(super) fn read_rows(input: impl Read, report: &mut ImportReport) -> AppResult<Vec<Row>> {
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
