use std::net::SocketAddr;

use memberkey::config::Argon2Settings;
use std::io::Write;
use std::sync::Arc;

use memberkey::domain::{Clock, ManualClock, Right, SystemClock};
use memberkey::mail::MailTransport;
use memberkey::mail::memory::MemoryTransport;
use memberkey::services::{self, RequestMeta};
use memberkey::{App, Config, RunningApp};
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs a test body once per backend: `both!(name, |app| async move { ... });`
macro_rules! both {
    ($name:ident, |$app:ident| $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($app: $crate::helpers::TestApp) {
                $body.await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::helpers::spawn_app($crate::helpers::Backend::Sqlite).await;
                run(app).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if !$crate::helpers::postgres_enabled() {
                    return;
                }
                let app = $crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await;
                run(app).await;
            }
        }
    };
}
pub(crate) use both;

/// Runs `async fn f(backend: Backend)` once per backend, for tests that spawn their own app.
macro_rules! per_backend {
    ($name:ident, $f:path) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $f($crate::helpers::Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if $crate::helpers::postgres_enabled() {
                    $f($crate::helpers::Backend::Postgres).await;
                }
            }
        }
    };
}
pub(crate) use per_backend;

pub fn postgres_enabled() -> bool {
    component("MEMBERKEY_TEST_POSTGRES_URL", "PostgreSQL").is_some()
}

/// A test component named by an environment variable (`tests/run-all.sh` sets them all), or
/// `None` to skip. Under `CI` or `MEMBERKEY_TEST_REQUIRE_ALL=1` a missing component fails the
/// test instead, so a green run cannot hide tests that never ran.
pub fn component(var: &str, what: &str) -> Option<String> {
    if let Some(value) = std::env::var(var).ok().filter(|v| !v.trim().is_empty()) {
        return Some(value);
    }
    missing(&format!("{var} is not set"), what);
    None
}

/// Skips the `what` part of a test because of `why`, or fails it under `CI` or
/// `MEMBERKEY_TEST_REQUIRE_ALL=1`.
pub fn missing(why: &str, what: &str) {
    let required = std::env::var_os("CI").is_some()
        || std::env::var("MEMBERKEY_TEST_REQUIRE_ALL").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "{why}, so the {what} part of this test cannot run; tests/run-all.sh provides it"
    );
    // Written to the process's stderr, not through `eprintln!`, which the test harness
    // captures: a skip stays visible without `--nocapture`.
    let test = std::thread::current().name().unwrap_or("a test").to_owned();
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: {why}; the {what} part is skipped (tests/run-all.sh provides it)"
    );
}

/// A fresh PostgreSQL database, dropped when the test ends.
struct PgDatabase {
    admin_url: String,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop runs outside async; a short-lived runtime on its own thread does the DROP.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                use sea_orm::ConnectionTrait;
                let db = sea_orm::Database::connect(&admin_url).await.ok()?;
                db.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await
                    .ok()?;
                db.close().await.ok()
            })
        })
        .join();
    }
}

fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{}", &base[..path_start], name);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// The password `TestApp::staff_with` gives every staff user.
pub const STAFF_PASSWORD: &str = "correct horse battery staple";

pub struct TestApp {
    pub app: RunningApp,
    /// Mail the app sent, unless the test chose another transport.
    pub mail: Arc<MemoryTransport>,
    pub client: reqwest::Client,
    _dir: tempfile::TempDir,
    _pg: Option<PgDatabase>,
}

/// Settings for tests: cheap Argon2 so hashing does not dominate the suite.
pub fn test_config(database_url: String) -> Config {
    Config {
        database_url,
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        public_url: "https://members.example.org".into(),
        argon2: Argon2Settings {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        },
        db_max_connections: 8,
        // A fixed key keeps tests from writing a key file into the working directory.
        sealing_key: Some(memberkey::config::Secret::from(
            "dGVzdC1zZWFsaW5nLWtleS0zMi1ieXRlcy1sb25nISE",
        )),
        mail: memberkey::config::MailSettings {
            // The worker looks often, so tests see their mail quickly.
            poll: std::time::Duration::from_millis(50),
            max_send_rate: 1_000.0,
            from: "Harbour Chamber <no-reply@chamber.example>".into(),
            ..Default::default()
        },
        association_name: "Harbour Chamber".into(),
        // Every test client is 127.0.0.1; the limit tests lower these again.
        login_ip_limit: 1_000_000,
        token_ip_limit: 1_000_000,
        ..Config::default()
    }
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// An app whose clock only moves when the test says so.
pub async fn spawn_app_with_clock(backend: Backend) -> (TestApp, ManualClock) {
    spawn_app_with_clock_and(backend, |_| {}).await
}

/// An app with a manual clock and adjusted settings.
pub async fn spawn_app_with_clock_and(
    backend: Backend,
    tweak: impl FnOnce(&mut Config),
) -> (TestApp, ManualClock) {
    // Whole seconds: PostgreSQL keeps microseconds, so a nanosecond start would make
    // "exactly at expiry" depend on rounding.
    use chrono::SubsecRound;
    let clock = ManualClock::new(chrono::Utc::now().trunc_subsecs(0));
    let app = spawn(backend, tweak, Arc::new(clock.clone())).await;
    (app, clock)
}

/// Which transport the app's delivery worker sends through.
pub enum Mail {
    /// `TestApp::mail`, in memory.
    Memory,
    /// What the settings name (the outbox directory unless the test changes it).
    Configured,
    /// A transport the test made.
    Custom(Arc<dyn MailTransport>),
}

pub async fn spawn_app_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> TestApp {
    spawn(backend, tweak, Arc::new(SystemClock)).await
}

async fn spawn(
    backend: Backend,
    tweak: impl FnOnce(&mut Config),
    clock: Arc<dyn Clock>,
) -> TestApp {
    spawn_full(backend, tweak, clock, Mail::Memory).await
}

/// The general form: settings, clock and mail transport all chosen by the test.
pub async fn spawn_full(
    backend: Backend,
    tweak: impl FnOnce(&mut Config),
    clock: Arc<dyn Clock>,
    mail: Mail,
) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let (url, pg) = match backend {
        Backend::Sqlite => {
            let path = dir.path().join("memberkey.db");
            (format!("sqlite://{}?mode=rwc", path.display()), None)
        }
        Backend::Postgres => {
            let admin_url =
                std::env::var("MEMBERKEY_TEST_POSTGRES_URL").expect("MEMBERKEY_TEST_POSTGRES_URL");
            let name = format!("memberkey_test_{}", uuid::Uuid::new_v4().simple());
            {
                use sea_orm::ConnectionTrait;
                let admin = sea_orm::Database::connect(&admin_url)
                    .await
                    .expect("connect to PostgreSQL");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("create test database");
                admin.close().await.expect("close admin connection");
            }
            let url = with_database(&admin_url, &name);
            (url, Some(PgDatabase { admin_url, name }))
        }
    };
    let mut config = test_config(url);
    config.mail.outbox_dir = dir.path().join("outbox");
    tweak(&mut config);
    let listen = config.listen;
    let memory = Arc::new(MemoryTransport::new());
    let transport: Option<Arc<dyn MailTransport>> = match mail {
        Mail::Memory => Some(memory.clone()),
        Mail::Configured => None,
        Mail::Custom(t) => Some(t),
    };
    let app = App::build_with(config, clock, transport)
        .await
        .expect("build app");
    let app = app.spawn(listen).await.expect("spawn app");
    TestApp {
        app,
        mail: memory,
        client: reqwest::Client::new(),
        _dir: dir,
        _pg: pg,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        self.app.url(path)
    }

    /// Creates a staff user directly through the service (as `memberkey staff create` does)
    /// and signs them in over HTTP. Returns the bearer token.
    pub async fn staff_with(&self, username: &str, rights: &[Right]) -> String {
        let password = STAFF_PASSWORD;
        services::staff::create(
            &self.app.services,
            None,
            &RequestMeta::default(),
            username,
            None,
            password,
            rights,
        )
        .await
        .expect("create staff user");
        self.login(username, password).await
    }

    pub async fn admin(&self) -> String {
        self.staff_with("admin", &Right::ALL).await
    }

    pub async fn login(&self, username: &str, password: &str) -> String {
        let url = self.url("/graphql");
        crate::support::staff_token(&self.client, &url, username, password).await
    }

    /// Sends one GraphQL request and returns the JSON body; the HTTP status must be 200.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let url = self.url("/graphql");
        let (status, body, _) =
            crate::support::post_graphql(&self.client, &url, token, query, variables).await;
        assert_eq!(status, 200, "unexpected status; body: {body}");
        body
    }

    /// A second memberkey on this app's database, with its own delivery worker sending
    /// through `transport`: two processes sharing one database.
    pub async fn sibling(&self, transport: Arc<dyn MailTransport>) -> RunningApp {
        let config = (*self.app.services.config).clone();
        let listen = config.listen;
        App::build_with(config, Arc::new(SystemClock), Some(transport))
            .await
            .expect("build sibling")
            .spawn(listen)
            .await
            .expect("spawn sibling")
    }

    /// Inserts `n` people with addresses `{prefix}{i}@example.org` straight into the
    /// database, for tests that need many recipients.
    pub async fn bulk_people(&self, n: usize, prefix: &str) {
        memberkey::store::profiles::insert_generated_people(
            &self.app.services.db,
            n,
            prefix,
            chrono::Utc::now(),
        )
        .await
        .expect("insert profiles");
    }

    /// One column of the first row of `sql`, read straight from the app's database.
    pub async fn sql_value<T: sea_orm::TryGetable>(&self, sql: &str, column: &str) -> T {
        use sea_orm::ConnectionTrait;
        let db = &self.app.services.db;
        let stmt = sea_orm::Statement::from_string(db.get_database_backend(), sql);
        let row = db.query_one_raw(stmt).await.expect("query").expect("a row");
        row.try_get("", column).expect("column")
    }

    /// Runs one operation in-process, on the app's schema and services, as the caller
    /// `token` names: no HTTP server, no socket. Guards and resolvers see exactly what they
    /// see over HTTP, because the same `RequestContext` builder resolves the caller.
    pub async fn execute(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let services = &self.app.services;
        let schema = memberkey::graphql::build_schema(services.clone(), &services.config);
        let context = memberkey::graphql::RequestContext::build(
            services,
            token,
            memberkey::services::RequestMeta::default(),
        )
        .await
        .expect("caller resolved");
        let request = async_graphql::Request::new(query)
            .variables(async_graphql::Variables::from_json(variables));
        let response = schema.execute(context.attach(request)).await;
        serde_json::to_value(&response).expect("response serialises")
    }

    /// Runs one statement straight on the app's database (to stage what the API never writes).
    pub async fn sql_exec(&self, sql: &str) {
        use sea_orm::ConnectionTrait;
        let db = &self.app.services.db;
        let stmt = sea_orm::Statement::from_string(db.get_database_backend(), sql);
        db.execute_raw(stmt).await.expect("statement");
    }

    /// Proves a staff session again (step-up) with the password `staff_with` gives and, for a
    /// user with a second factor, `code`; panics unless it worked.
    pub async fn step_up(&self, token: &str, code: Option<&str>) {
        let resp = self
            .gql(
                Some(token),
                "mutation($p: String!, $c: String) { confirmStaffIdentity(password: $p, code: $c) { freshUntil } }",
                json!({ "p": STAFF_PASSWORD, "c": code }),
            )
            .await;
        assert!(
            resp["data"]["confirmStaffIdentity"]["freshUntil"].is_string(),
            "step-up failed: {resp}"
        );
    }

    /// The ID of the staff user `username`, as `admin` (MANAGE_STAFF) lists them.
    pub async fn staff_id(&self, admin: &str, username: &str) -> String {
        let list = self
            .gql(Some(admin), "{ staffUsers { id username } }", json!({}))
            .await;
        list["data"]["staffUsers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"] == username)
            .unwrap_or_else(|| panic!("{username} in {list}"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// One GraphQL request from client `ip` (through the proxy `MEMBERKEY_TRUSTED_PROXIES`
    /// trusts, as `X-Forwarded-For`); the JSON body.
    pub async fn gql_from(&self, ip: &str, query: &str, variables: Value) -> Value {
        self.client
            .post(self.url("/graphql"))
            .header("x-forwarded-for", ip)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// How many audit rows of `action` there are.
    pub async fn audited(&self, action: &str) -> i64 {
        self.sql_value::<i64>(
            &format!("SELECT COUNT(*) AS n FROM audit_events WHERE action = '{action}'"),
            "n",
        )
        .await
    }

    /// Creates a profile through the API and returns its ID.
    pub async fn create_profile(&self, token: &str, input: Value) -> String {
        let resp = self
            .gql(
                Some(token),
                "mutation($i: CreateProfileInput!) { createProfile(input: $i) { profile { id } } }",
                json!({ "i": input }),
            )
            .await;
        resp["data"]["createProfile"]["profile"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("create failed: {resp}"))
            .to_owned()
    }
}

// The one polling helper lives in the support module every test crate includes.
pub use crate::support::eventually;

/// The `extensions.code` of the first error.
pub fn code(resp: &Value) -> &str {
    resp["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("expected an error code in {resp}"))
}

pub fn person(first: &str, last: &str, email: Option<&str>) -> Value {
    json!({ "kind": "INDIVIDUAL", "firstName": first, "lastName": last, "email": email })
}

pub fn org(name: &str, email: Option<&str>) -> Value {
    json!({ "kind": "ORGANIZATION", "organizationName": name, "email": email })
}
