//! OpenID Connect provider benchmarks behind BENCHMARKS.md. Run with:
//!
//!     cargo run --release --example bench_oidc -- [--seconds S] [--clients C] [--db-connections N]
//!
//! Each result is a ratio to a bound measured in the same run, on the same machine:
//! 1. The token endpoint (code exchange, RS256 ID token) against the rate at which
//!    jsonwebtoken signs the same kind of ID token with the same RSA-2048 key on every core.
//! 2. Userinfo against `{ __typename }` through `POST /graphql`, both with C clients.
//! 3. The whole sign-in to a site (authorize, the sign-in form with its Argon2id password
//!    check, authorize again, the code exchange) against `cores / Argon2id verify time`.
//!
//! The clients run in this process, on the same cores. The server has a runtime of its own
//! so that each phase can also say how much CPU the clients took and what the server's own
//! CPU per operation was (from the threads' times in /proc).

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use argon2::password_hash::PasswordVerifier as _;
use argon2::password_hash::phc::PasswordHash;
use argon2::{Argon2, PasswordHasher as _};
use memberkey::{App, Config};
use serde_json::{Value, json};

const STAFF_SET: &str = "benchmarks need long passphrases too";
const PASSWORD: &str = "members choose passphrases of their own";
const ACCOUNTS: usize = 32;
const CALLBACK: &str = "http://127.0.0.1:9/callback";
/// One PKCE verifier for every sign-in: the benchmark measures the server, not the client.
const VERIFIER: &str = "a-verifier-of-at-least-43-characters-0123456789";

/// Runs `work` on `threads` OS threads for `for_`; operations per second.
fn parallel_rate(threads: usize, for_: Duration, work: impl Fn() + Send + Sync + 'static) -> f64 {
    let work = Arc::new(work);
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (work, done) = (work.clone(), done.clone());
            std::thread::spawn(move || {
                while start.elapsed() < for_ {
                    work();
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

/// CPU seconds used: (the clients', the server's). The clients are this runtime's threads
/// and the main thread, which live as long as the benchmark; the server is the rest of the
/// process (its runtime, SQLite's connection threads, the hashing and signing threads),
/// taken from the process's total so that threads that ended meanwhile still count.
fn cpu_split() -> (f64, f64) {
    let main = std::process::id().to_string();
    let mut clients = 0.0;
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let Some((name, used)) = cpu_of(&task.path().join("stat")) else {
            continue;
        };
        // Tokio names its threads "tokio-rt-worker" (older versions "tokio-runtime-worker").
        if name.starts_with("tokio-r") || task.file_name().to_str() == Some(main.as_str()) {
            clients += used;
        }
    }
    let (_, total) = cpu_of(std::path::Path::new("/proc/self/stat")).unwrap();
    (clients, total - clients)
}

/// The name and CPU seconds (user + system) in a `stat` file of /proc: a thread's own, or
/// for the process, every thread's that ever ran.
fn cpu_of(path: &std::path::Path) -> Option<(String, f64)> {
    let tick = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let stat = std::fs::read_to_string(path).ok()?;
    // The name is in parentheses and may hold spaces; the times follow it.
    let (head, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let used = (fields[11].parse::<f64>().ok()? + fields[12].parse::<f64>().ok()?) / tick;
    let name = head.split_once('(').map(|(_, n)| n).unwrap_or("");
    Some((name.to_owned(), used))
}

/// What a phase cost: the CPU its clients and the server used while it ran.
struct Cpu {
    at: Instant,
    start: (f64, f64),
}

impl Cpu {
    fn start() -> Self {
        Cpu {
            at: Instant::now(),
            start: cpu_split(),
        }
    }

    /// Prints the cores each side used and the server's CPU per operation, given `ops`
    /// operations since `start`; returns the rate the server's own CPU would allow on
    /// `cores` cores.
    fn report(&self, ops: f64, cores: usize) -> f64 {
        let (c, s) = cpu_split();
        let wall = self.at.elapsed().as_secs_f64();
        let (clients, server) = (c - self.start.0, s - self.start.1);
        let per_op = server / ops;
        println!(
            "  CPU: clients {:.2} cores, server {:.2} cores; the server's CPU per operation {:.3} ms, so {:.0}/s on {cores} cores of its own",
            clients / wall,
            server / wall,
            per_op * 1000.0,
            cores as f64 / per_op
        );
        cores as f64 / per_op
    }
}

/// One member's browser: cookies kept by hand, no redirects followed.
struct Browser {
    http: reqwest::Client,
    base: String,
    origin: String,
    cookies: HashMap<String, String>,
}

struct Page {
    status: reqwest::StatusCode,
    location: String,
    body: String,
}

impl Browser {
    fn new(http: &reqwest::Client, base: &str, origin: &str) -> Self {
        Browser {
            http: http.clone(),
            base: base.to_owned(),
            origin: origin.to_owned(),
            cookies: HashMap::new(),
        }
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let resp = req.header("cookie", cookie).send().await.unwrap();
        for set in resp.headers().get_all("set-cookie") {
            let pair = set.to_str().unwrap().split(';').next().unwrap();
            if let Some((k, v)) = pair.split_once('=') {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
        }
        Page {
            status: resp.status(),
            location: resp
                .headers()
                .get("location")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default(),
            body: resp.text().await.unwrap(),
        }
    }

    async fn get(&mut self, path: &str) -> Page {
        let req = self.http.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("origin", &self.origin)
            .form(form);
        self.send(req).await
    }

    /// Signs in on the way to the site and returns the code the site receives.
    async fn sign_in_to_site(&mut self, client_id: &str, login: &str) -> String {
        let authorize = authorize_path(client_id);
        let to_form = self.get(&authorize).await;
        assert_eq!(to_form.status, 303, "{}", to_form.body);
        let form = self.get(&to_form.location).await;
        let csrf = form
            .body
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .expect("a form token")
            .to_owned();
        let signed = self
            .post(
                "/portal/sign-in",
                &[
                    ("login", login),
                    ("password", PASSWORD),
                    ("csrf", &csrf),
                    ("next", &authorize),
                ],
            )
            .await;
        assert_eq!(signed.status, 200, "{}", signed.body);
        self.code(client_id).await
    }

    /// With a session: the authorization request answers with a code at once.
    async fn code(&mut self, client_id: &str) -> String {
        let back = self.get(&authorize_path(client_id)).await;
        assert_eq!(back.status, 303, "{}", back.body);
        url::Url::parse(&back.location)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_else(|| panic!("no code in {}", back.location))
    }
}

fn authorize_path(client_id: &str) -> String {
    let challenge = memberkey::services::oidc::authorize::s256(VERIFIER);
    format!(
        "/oidc/authorize?response_type=code&scope=openid%20profile%20email&client_id={client_id}&redirect_uri={}&state=s&nonce=n&code_challenge={challenge}&code_challenge_method=S256",
        url::form_urlencoded::byte_serialize(CALLBACK.as_bytes()).collect::<String>()
    )
}

async fn exchange(http: &reqwest::Client, base: &str, site: &(String, String), code: &str) -> bool {
    let resp = http
        .post(format!("{base}/oidc/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", &site.0),
            ("client_secret", &site.1),
            ("code", code),
            ("redirect_uri", CALLBACK),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    if status != 200 || !body["id_token"].is_string() {
        eprintln!("token endpoint answered {status}: {body}");
        return false;
    }
    true
}

/// Runs `clients` loops of `step` for `seconds` after a one-second warm-up; completed steps
/// per second, and the rate the server's own CPU would allow on `cores` cores.
async fn closed_loop<F, Fut>(clients: usize, cores: usize, seconds: u64, step: F) -> (f64, f64)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let step = Arc::new(step);
    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let (step, stop, ok, failed) = (step.clone(), stop.clone(), ok.clone(), failed.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    if step(c).await {
                        ok.fetch_add(1, Ordering::Relaxed);
                    } else {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = ok.load(Ordering::Relaxed);
    let started = Instant::now();
    let cpu = Cpu::start();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let done = (ok.load(Ordering::Relaxed) - before) as f64;
    let rate = done / started.elapsed().as_secs_f64();
    let own = cpu.report(done, cores);
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    assert_eq!(failed.load(Ordering::Relaxed), 0, "a step failed");
    (rate, own)
}

#[tokio::main]
async fn main() {
    let seconds = common::arg("--seconds", 10);
    let clients = common::arg("--clients", 16) as usize;
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);

    let dir = tempfile::tempdir().unwrap();
    let defaults = common::config(dir.path());
    let config = Config {
        login_ip_limit: i32::MAX,
        token_ip_limit: i32::MAX,
        db_max_connections: common::arg("--db-connections", defaults.db_max_connections as u64)
            as u32,
        ..defaults
    };
    let origin = config.public_url.clone();
    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores)
        .thread_name("memberkey-server")
        .enable_all()
        .build()
        .unwrap();
    let app = server
        .spawn(async move {
            App::build(config)
                .await
                .unwrap()
                .spawn(SocketAddr::from(([127, 0, 0, 1], 0)))
                .await
                .unwrap()
        })
        .await
        .unwrap();
    let base = app.url("");
    let url = app.url("/graphql");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    // Staff, members with their own passwords, and a site with a secret.
    let staff = common::operator_and_members(&app, &http, ACCOUNTS, STAFF_SET).await;
    // Each member replaces the staff-set password with their own, so none must change it
    // on the way to the site.
    for i in 0..ACCOUNTS {
        let login = common::gql(
            &http,
            &url,
            None,
            "mutation($l: String!, $p: String!) { memberLogin(login: $l, password: $p) { token } }",
            json!({ "l": format!("bench{i}"), "p": STAFF_SET }),
        )
        .await;
        let token = login["data"]["memberLogin"]["token"]
            .as_str()
            .unwrap_or_else(|| panic!("{login}"));
        let changed = common::gql(&http, &url, Some(token), "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { changedAt } }",
            json!({ "c": STAFF_SET, "n": PASSWORD })).await;
        assert!(changed["errors"].is_null(), "{changed}");
    }
    let r = common::gql(&http, &url, Some(&staff), "mutation($i: CreateOidcClientInput!) { createOidcClient(input: $i) { client { clientId } clientSecret } }",
        json!({ "i": { "name": "Bench site", "redirectUris": [CALLBACK] } })).await;
    let site = Arc::new((
        r["data"]["createOidcClient"]["client"]["clientId"]
            .as_str()
            .unwrap_or_else(|| panic!("{r}"))
            .to_owned(),
        r["data"]["createOidcClient"]["clientSecret"]
            .as_str()
            .unwrap()
            .to_owned(),
    ));

    // 1. The token endpoint against RS256 signing with the same key.
    let key = app.services.oidc_keys.signing(&app.services).await.unwrap();
    let claims = json!({
        "iss": origin, "sub": "4f0c7d8e-1b2a-4c3d-9e8f-0a1b2c3d4e5f", "aud": site.0,
        "exp": 4_000_000_000u64, "iat": 1_700_000_000u64, "auth_time": 1_700_000_000u64,
        "nonce": "n", "name": "Bench Member0", "preferred_username": "bench0",
        "email": "bench0@example.org", "email_verified": false,
    });
    let signing_bound = {
        let encoding = key.encoding.clone();
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some(key.kid.clone());
        parallel_rate(cores, Duration::from_secs(5), move || {
            jsonwebtoken::encode(&header, &claims, &encoding).unwrap();
        })
    };
    println!(
        "Bound: RS256 signing with jsonwebtoken (aws-lc-rs), RSA-2048, {cores} threads: {signing_bound:.0}/s"
    );

    // Codes come from members already signed in; each lives 60 s, so they are made in rounds
    // outside the timed part, and every round is exchanged with `clients` clients at once.
    let mut browsers = Vec::new();
    for i in 0..clients {
        let mut b = Browser::new(&http, &base, &origin);
        let code = b
            .sign_in_to_site(&site.0, &format!("bench{}", i % ACCOUNTS))
            .await;
        assert!(exchange(&http, &base, &site, &code).await);
        browsers.push(b);
    }
    let (mut exchanged, mut spent) = (0u64, Duration::ZERO);
    let (mut client_cpu, mut server_cpu) = (0.0, 0.0);
    while spent < Duration::from_secs(seconds) {
        let mut codes = Vec::new();
        for b in browsers.iter_mut() {
            for _ in 0..50 {
                codes.push(b.code(&site.0).await);
            }
        }
        let codes = Arc::new(std::sync::Mutex::new(codes));
        let started = Instant::now();
        let cpu = cpu_split();
        let tasks: Vec<_> = (0..clients)
            .map(|_| {
                let (codes, http, base, site) =
                    (codes.clone(), http.clone(), base.clone(), site.clone());
                tokio::spawn(async move {
                    let mut n = 0u64;
                    loop {
                        let next = codes.lock().unwrap().pop();
                        let Some(code) = next else { break };
                        assert!(
                            exchange(&http, &base, &site, &code).await,
                            "an exchange failed"
                        );
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        for t in tasks {
            exchanged += t.await.unwrap();
        }
        spent += started.elapsed();
        let after = cpu_split();
        client_cpu += after.0 - cpu.0;
        server_cpu += after.1 - cpu.1;
    }
    let token_rate = exchanged as f64 / spent.as_secs_f64();
    println!(
        "Token endpoint (code exchange + RS256 ID token), {clients} clients: {token_rate:.0}/s = {:.2} of the signing bound",
        token_rate / signing_bound
    );
    let per_exchange = server_cpu / exchanged as f64;
    println!(
        "  CPU: clients {:.2} cores, server {:.2} cores; the server's CPU per exchange {:.3} ms, so {:.0}/s on {cores} cores of its own = {:.2} of the signing bound",
        client_cpu / spent.as_secs_f64(),
        server_cpu / spent.as_secs_f64(),
        per_exchange * 1000.0,
        cores as f64 / per_exchange,
        cores as f64 / per_exchange / signing_bound
    );

    // 2. Userinfo against `{ __typename }`. Each client presents its own member's token,
    // as a site's visitors do.
    let mut access = Vec::new();
    for browser in browsers.iter_mut().take(clients) {
        let code = browser.code(&site.0).await;
        let resp: Value = http
            .post(format!("{base}/oidc/token"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("client_id", site.0.as_str()),
                ("client_secret", site.1.as_str()),
                ("code", code.as_str()),
                ("redirect_uri", CALLBACK),
                ("code_verifier", VERIFIER),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        access.push(resp["access_token"].as_str().unwrap().to_owned());
    }
    let access = Arc::new(access);
    let (typename, typename_own) = {
        let (http, url) = (http.clone(), url.clone());
        closed_loop(clients, cores, seconds, move |_| {
            let (http, url) = (http.clone(), url.clone());
            async move {
                let v = common::gql(&http, &url, None, "{ __typename }", json!({})).await;
                v["data"]["__typename"] == "QueryRoot"
            }
        })
        .await
    };
    let (userinfo, userinfo_own) = {
        let (http, base) = (http.clone(), base.clone());
        closed_loop(clients, cores, seconds, move |c| {
            let (http, base, access) = (http.clone(), base.clone(), access.clone());
            async move {
                let resp = http
                    .get(format!("{base}/oidc/userinfo"))
                    .bearer_auth(&access[c % access.len()])
                    .send()
                    .await
                    .unwrap();
                resp.status() == 200 && resp.bytes().await.is_ok()
            }
        })
        .await
    };
    println!(
        "Userinfo: {userinfo:.0}/s; {{ __typename }}: {typename:.0}/s; ratio {:.2} (by the server's own CPU: {:.2})",
        userinfo / typename,
        userinfo_own / typename_own
    );

    // 3. The whole sign-in against the Argon2id bound.
    let phc = Argon2::default()
        .hash_password(PASSWORD.as_bytes())
        .unwrap()
        .to_string();
    let verify_rate = {
        let phc = phc.clone();
        parallel_rate(1, Duration::from_secs(3), move || {
            let parsed = PasswordHash::new(&phc).unwrap();
            Argon2::default()
                .verify_password(PASSWORD.as_bytes(), &parsed)
                .unwrap();
        })
    };
    let argon_bound = verify_rate * cores as f64;
    // What the cores give when all of them verify at once (shared caches and memory).
    let raw_parallel = {
        let phc = phc.clone();
        parallel_rate(cores, Duration::from_secs(3), move || {
            let parsed = PasswordHash::new(&phc).unwrap();
            Argon2::default()
                .verify_password(PASSWORD.as_bytes(), &parsed)
                .unwrap();
        })
    };
    println!(
        "Bound: {cores} cores x {verify_rate:.1} Argon2id verifies/s on one core = {argon_bound:.1} sign-ins/s; {cores} threads verifying at once, no server: {raw_parallel:.1}/s"
    );
    let (flows, flows_own) = {
        let (http, base, origin, site) = (http.clone(), base.clone(), origin.clone(), site.clone());
        closed_loop(clients, cores, seconds, move |c| {
            let (http, base, origin, site) =
                (http.clone(), base.clone(), origin.clone(), site.clone());
            async move {
                let mut b = Browser::new(&http, &base, &origin);
                let code = b
                    .sign_in_to_site(&site.0, &format!("bench{}", c % ACCOUNTS))
                    .await;
                exchange(&http, &base, &site, &code).await
            }
        })
        .await
    };
    println!(
        "Whole sign-in to a site (authorize, sign-in form, authorize, token), {clients} clients: {flows:.1}/s = {:.2} of the Argon2id bound, {:.2} of the raw parallel rate (by the server's own CPU: {:.2} of the bound)",
        flows / argon_bound,
        flows / raw_parallel,
        flows_own / argon_bound
    );
    app.shutdown().await;
    server.shutdown_background();
}
