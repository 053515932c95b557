//! Accounts imported from another system with PBKDF2, scrypt or bcrypt hashes sign in with their old
//! passwords, and are moved to Argon2id on that sign-in.

use memberkey::domain::ProfileId;
use memberkey::services::import::{ImportedCredential, import};
use password_hash::PasswordHasher as _;

use crate::helpers::{TestApp, both, code, person};
use crate::member_login::member_login;

const OLD_PASSWORD: &str = "an old password from the previous portal";
/// A 32-byte hash output, as a PHC string writes it.
const OUT: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

fn pbkdf2_phc() -> String {
    let hasher = pbkdf2::Pbkdf2::new(
        pbkdf2::Algorithm::Pbkdf2Sha256,
        pbkdf2::Params::new(10_000).unwrap(),
    );
    hasher
        .hash_password_with_salt(OLD_PASSWORD.as_bytes(), b"saltsaltsaltsalt")
        .unwrap()
        .to_string()
}

fn scrypt_phc() -> String {
    let hasher = scrypt::Scrypt::new_with_params(scrypt::Params::new(10, 8, 1).unwrap());
    hasher
        .hash_password_with_salt(OLD_PASSWORD.as_bytes(), b"saltsaltsaltsalt")
        .unwrap()
        .to_string()
}

async fn imported_account(app: &TestApp, username: &str, phc: &str) -> String {
    let admin = app.admin().await;
    let id = app
        .create_profile(
            &admin,
            person("Old", "Timer", Some(&format!("{username}@example.org"))),
        )
        .await;
    import(
        &app.app.services,
        ImportedCredential {
            profile_id: ProfileId::parse(&id).unwrap(),
            username: Some(username),
            password_hash: phc,
        },
    )
    .await
    .expect("import");
    id
}

async fn signs_in_and_rehashes(app: TestApp, username: &str, phc: String) {
    let prefix = phc.split('$').nth(1).unwrap().to_owned();
    let id = imported_account(&app, username, &phc).await;
    let stored = format!("SELECT password_hash FROM portal_credentials WHERE profile_id = {id}");
    assert!(
        app.sql_value::<String>(&stored, "password_hash")
            .await
            .starts_with(&format!("${prefix}$"))
    );

    assert_eq!(
        code(&member_login(&app, username, "a wrong password for sure").await),
        "INVALID_LOGIN"
    );
    let resp = member_login(&app, username, OLD_PASSWORD).await;
    assert_eq!(resp["data"]["memberLogin"]["profile"]["id"], id, "{resp}");

    // Moved to Argon2id, still marked as not staff-assigned, and the old password still works.
    assert!(
        app.sql_value::<String>(&stored, "password_hash")
            .await
            .starts_with("$argon2id$")
    );
    let set_by = format!("SELECT password_set_by FROM portal_credentials WHERE profile_id = {id}");
    assert_eq!(
        app.sql_value::<String>(&set_by, "password_set_by").await,
        "IMPORTED"
    );
    let resp = member_login(&app, username, OLD_PASSWORD).await;
    assert_eq!(resp["data"]["memberLogin"]["profile"]["id"], id, "{resp}");
}

both!(pbkdf2_accounts_sign_in, |app| signs_in_and_rehashes(
    app,
    "pbkdf2user",
    pbkdf2_phc()
));
both!(scrypt_accounts_sign_in, |app| signs_in_and_rehashes(
    app,
    "scryptuser",
    scrypt_phc()
));

both!(bcrypt_accounts_sign_in, |app| signs_in_and_rehashes(
    app,
    "bcryptuser",
    bcrypt::hash(OLD_PASSWORD, 4).unwrap()
));

both!(unsupported_or_costly_hashes_are_refused, |app| async move {
    let admin = app.admin().await;
    let id = app
        .create_profile(&admin, person("Bad", "Hash", None))
        .await;
    let phcs: Vec<String> = [
        "plaintext".to_owned(),
        "$md5$abc".to_owned(),
        // bcrypt above cost 12, and a truncated one.
        "$2b$13$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy".to_owned(),
        "$2y$10$N9qo8uLOickgx2ZMRZoMye".to_owned(),
        "$pbkdf2-sha256$i=50000000,l=32$c2FsdHNhbHRzYWx0c2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_owned(),
        // What the outside test imported: Argon2 at 4 GiB or 20 passes, scrypt with p=160.
        format!("$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA${OUT}"),
        format!("$argon2id$v=19$m=19456,t=20,p=1$c2FsdHNhbHRzYWx0c2FsdA${OUT}"),
        format!("$scrypt$ln=14,r=8,p=160$c2FsdHNhbHRzYWx0c2FsdA${OUT}"),
        format!("$scrypt$ln=17,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA${OUT}"),
        // An Argon2 hash cut short at the comma of an unquoted CSV cell.
        "$argon2id$v=19$m=19456".to_owned(),
    ]
    .into();
    for phc in phcs.iter().map(String::as_str) {
        let err = import(
            &app.app.services,
            ImportedCredential {
                profile_id: ProfileId::parse(&id).unwrap(),
                username: None,
                password_hash: phc,
            },
        )
        .await
        .expect_err(phc);
        assert_eq!(err.code().as_str(), "BAD_USER_INPUT", "{phc}");
    }
});

both!(a_costly_stored_hash_is_never_evaluated, |app| async move {
    // A hash over the limits that reached the database before they existed (or by hand).
    let id = imported_account(&app, "costly", &pbkdf2_phc()).await;
    app.sql_exec(&format!(
        "UPDATE portal_credentials SET password_hash = '$argon2id$v=19$m=4194304,t=20,p=1$c2FsdHNhbHRzYWx0c2FsdA${OUT}' WHERE profile_id = {id}"
    ))
    .await;
    let before = app.app.services.hasher.evaluations();
    let resp = member_login(&app, "costly", OLD_PASSWORD).await;
    assert_eq!(code(&resp), "INVALID_LOGIN", "{resp}");
    // One evaluation: the dummy hash at memberkey's own cost, never the 4 GiB one.
    assert_eq!(app.app.services.hasher.evaluations() - before, 1);
});
