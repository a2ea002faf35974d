//! Accounts, sessions and API tokens (migration 0008_accounts) on every backend: a fresh store
//! applies 0008 after 0005 (the numbers in between belong to other changes and may be missing);
//! logins are unique; the fifth consecutive failure locks; sessions expire and are dropped;
//! disabling ends sessions and tokens at once; a password reset ends sessions. These tables are
//! node-local: a rebuild leaves them as they were and the projection snapshot never lists them.

mod common;

use common::data::*;
use common::ingest::{deliver, no_fallback};
use common::on_each_backend;
use quanze_domain::Role;
use quanze_store::{NewAccount, Store};

on_each_backend! {
    accounts_sessions_and_tokens => sqlite_accounts_sessions_and_tokens, postgres_accounts_sessions_and_tokens;
}

const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA";

fn account(login: &str, roles: Vec<Role>, department: Option<&str>) -> NewAccount {
    NewAccount {
        login: login.into(),
        name: "张伟".into(),
        roles,
        department: department.map(Into::into),
        password_hash: HASH.into(),
        created_at: 1_760_000_000,
    }
}

async fn accounts_sessions_and_tokens(store: Store) {
    // Some log to rebuild from.
    let mut fed = Federation::new();
    store.set_trust_root(&division(SICHUAN), &fed.province.public()).await.unwrap();
    assert!(deliver(&store, &fed.chain()).await.iter().all(|d| d.starts_with("applied")));

    let clerk = account("zhang.wei", vec![Role::Clerk, Role::Legal], Some("泸县市场监督管理局"));
    let a = store.create_account(&clerk).await.unwrap().expect("created");
    assert!(store.create_account(&clerk).await.unwrap().is_none(), "a login is unique");
    let b = store.create_account(&account("shen.ji", vec![Role::Auditor], None)).await.unwrap().unwrap();
    assert_ne!(a.id, b.id);
    assert_eq!(store.accounts().await.unwrap(), vec![a.clone(), b.clone()]);
    let record = store.login_record("zhang.wei").await.unwrap().unwrap();
    assert_eq!((record.account, record.password_hash.as_str()), (a.clone(), HASH));
    assert!(store.login_record("li.si").await.unwrap().is_none());

    // Four failures count, the fifth locks and the count starts again; a success clears it.
    for n in 1..5 {
        assert_eq!(store.record_login_failure(a.id, 5, 2_000).await.unwrap(), None);
        assert_eq!(store.account_by_login("zhang.wei").await.unwrap().unwrap().failed_logins, n);
    }
    assert_eq!(store.record_login_failure(a.id, 5, 2_000).await.unwrap(), Some(2_000));
    let locked = store.account_by_login("zhang.wei").await.unwrap().unwrap();
    assert_eq!((locked.failed_logins, locked.locked_until), (0, Some(2_000)));
    store.record_login_success(a.id).await.unwrap();
    assert_eq!(store.account_by_login("zhang.wei").await.unwrap().unwrap(), a);

    // Sessions: valid until they expire; a new session drops the expired ones.
    store.create_session("s1", a.id, 1_000, 2_000).await.unwrap();
    assert_eq!(store.session_account("s1", 1_999).await.unwrap(), Some(a.clone()));
    assert_eq!(store.session_account("s1", 2_000).await.unwrap(), None, "expired");
    store.create_session("s2", a.id, 2_500, 9_000).await.unwrap();
    assert_eq!(store.session_account("s1", 1_500).await.unwrap(), None, "dropped");
    assert!(store.delete_session("s2").await.unwrap());
    assert!(!store.delete_session("s2").await.unwrap());
    assert_eq!(store.session_account("nothing", 0).await.unwrap(), None);

    // API tokens and sessions survive a rebuild, which is still equal to the incremental state.
    store.add_api_token("t1", b.id, "ci", 1_000).await.unwrap();
    store.create_session("s3", b.id, 3_000, 9_000).await.unwrap();
    store.create_session("s4", a.id, 3_000, 9_000).await.unwrap();
    let before = store.snapshot().await.unwrap();
    assert!(!before.iter().any(|l| l.contains("zhang.wei") || l.contains(HASH)), "no account in the projections");
    store.rebuild(&no_fallback).await.unwrap();
    assert_eq!(store.snapshot().await.unwrap(), before);
    assert_eq!(store.accounts().await.unwrap().len(), 2);
    assert_eq!(store.token_account("t1").await.unwrap(), Some(b.clone()));
    assert_eq!(store.session_account("s3", 3_100).await.unwrap(), Some(b.clone()));

    // Disabling ends the account's sessions and tokens at once; other accounts keep theirs.
    assert!(store.disable_account("shen.ji", 3_200).await.unwrap());
    assert!(!store.disable_account("li.si", 3_200).await.unwrap());
    assert_eq!(store.token_account("t1").await.unwrap(), None);
    assert_eq!(store.session_account("s3", 3_300).await.unwrap(), None);
    assert!(store.login_record("shen.ji").await.unwrap().unwrap().account.disabled);
    assert_eq!(store.session_account("s4", 3_300).await.unwrap(), Some(a.clone()));

    // A new password ends the sessions and clears a lock.
    store.record_login_failure(a.id, 1, 8_000).await.unwrap();
    assert!(store.set_password("zhang.wei", "$argon2id$new").await.unwrap());
    assert!(!store.set_password("li.si", "$argon2id$new").await.unwrap());
    let record = store.login_record("zhang.wei").await.unwrap().unwrap();
    assert_eq!((record.password_hash.as_str(), record.account.locked_until), ("$argon2id$new", None));
    assert_eq!(store.session_account("s4", 3_300).await.unwrap(), None);
}
