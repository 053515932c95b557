//! Accounts imported from another system with PBKDF2, scrypt or bcrypt hashes sign in with their old
//! passwords, and are moved to Argon2id on that sign-in.

use memberkey::domain::ProfileId;
use memberkey::services::import::{ImportedCredential, import};
use password_hash::PasswordHasher as _;

use crate::helpers::{TestApp, both, code, person};
use crate::member_login::member_login;

const OLD_PASSWORD: &str = "an old password from the previous portal";

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
    for phc in [
        "plaintext",
        "$md5$abc",
        // bcrypt above cost 14, and a truncated one.
        "$2b$15$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
        "$2y$10$N9qo8uLOickgx2ZMRZoMye",
        "$pbkdf2-sha256$i=50000000,l=32$c2FsdHNhbHRzYWx0c2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
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
