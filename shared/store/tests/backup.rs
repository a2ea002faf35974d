//! Backup and restore of a store: one snapshot read while the store goes on writing, restored
//! into an empty store of either backend in one transaction with every entry re-verified; the
//! projections equal the source's, the node-local rows (accounts, sessions, tokens, push
//! checkpoints) come back, a tampered entry or a non-empty target changes nothing, and every
//! table of the schema is classified as backed up, rebuilt or the store's own.

mod common;

use common::data::*;
use common::db::TestDb;
use quanze_domain::Role;
use quanze_store::backup::{BackupRecord, LOCAL_TABLES, REBUILT_TABLES, STORE_TABLES};
use quanze_store::{NewAccount, StoreError};

#[tokio::test]
async fn sqlite_backup_restores_into_sqlite() {
    let (Some(a), Some(b)) = (TestDb::sqlite("s").await, TestDb::sqlite("t").await) else { return };
    backup_then_restore(&a, &b).await;
}

#[tokio::test]
async fn postgres_backup_restores_into_postgres() {
    let Some(a) = TestDb::postgres("postgres_backup_restores_into_postgres").await else { return };
    let Some(b) = TestDb::postgres("postgres_backup_restores_into_postgres").await else { return };
    backup_then_restore(&a, &b).await;
}

#[tokio::test]
async fn sqlite_backup_restores_into_postgres() {
    let Some(a) = TestDb::sqlite("s").await else { return };
    let Some(b) = TestDb::postgres("sqlite_backup_restores_into_postgres").await else { return };
    backup_then_restore(&a, &b).await;
}

#[tokio::test]
async fn sqlite_every_table_is_classified() {
    let Some(db) = TestDb::sqlite("s").await else { return };
    every_table_is_classified(&db).await;
}

#[tokio::test]
async fn postgres_every_table_is_classified() {
    let Some(db) = TestDb::postgres("postgres_every_table_is_classified").await else { return };
    every_table_is_classified(&db).await;
}

async fn backup_then_restore(source_db: &TestDb, target_db: &TestDb) {
    let source = source_db.open().await;
    let (mut luxian, mut luzhou) = (Writer::new(LUXIAN, 1), Writer::new(LUZHOU, 2));
    let written = vec![
        luxian.sign(vec![add(food_licence()), add(construction_permit())]),
        luzhou.sign(vec![add(catalogue_item(0, 35, "泸州市"))]),
    ];
    for entry in &written {
        source.append(std::slice::from_ref(entry)).await.unwrap();
    }
    let clerk = source
        .create_account(&NewAccount {
            login: "clerk".into(),
            name: "王芳".into(),
            roles: vec![Role::Clerk],
            department: Some("泸县市场监督管理局".into()),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            created_at: 1_700_000_000,
        })
        .await
        .unwrap()
        .unwrap();
    source.create_session("s".repeat(64).as_str(), clerk.id, 1_700_000_000, 4_000_000_000).await.unwrap();
    source.add_api_token("t".repeat(64).as_str(), clerk.id, "导入脚本", 1_700_000_000).await.unwrap();
    source.set_push_ack(LUXIAN, 1).await.unwrap();
    let before = source.snapshot().await.unwrap();

    let mut records = Vec::new();
    let summary = source
        .backup_read(&mut |r| {
            records.push(r);
            Ok(())
        })
        .await
        .unwrap();
    // Written after the snapshot: not in the backup.
    let later = luxian.sign(vec![add(water_permit())]);
    source.append(std::slice::from_ref(&later)).await.unwrap();
    assert_eq!((summary.entries, summary.rows), (2, 4));
    assert_eq!(summary.origins, vec![(LUZHOU.to_string(), 1, 1), (LUXIAN.to_string(), 1, 1)]);
    assert!(summary.schema_version >= 8);

    let keys = keys_of(&[&luxian, &luzhou]);
    // A tampered entry: refused, and the target stays empty.
    let target = target_db.open().await;
    let mut tampered = records.clone();
    if let BackupRecord::Entry { body, .. } = &mut tampered[0] {
        *body = body.replace("食品经营许可", "食品生产许可");
    }
    let err = target.restore(&mut tampered.into_iter().map(Ok), &keys).await.unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err}");
    assert_eq!(target.count_entries().await.unwrap(), 0);
    assert!(target.accounts().await.unwrap().is_empty());

    let replayed = target.restore(&mut records.clone().into_iter().map(Ok), &keys).await.unwrap();
    assert_eq!(replayed, 2);
    assert_eq!(target.snapshot().await.unwrap(), before);
    assert_eq!(target.accounts().await.unwrap(), vec![clerk.clone()]);
    assert_eq!(target.session_account(&"s".repeat(64), 1_800_000_000).await.unwrap(), Some(clerk.clone()));
    assert_eq!(target.token_account(&"t".repeat(64)).await.unwrap(), Some(clerk.clone()));
    assert_eq!(target.push_acks().await.unwrap(), vec![(LUXIAN.to_string(), 1)]);
    // Ids go on after the restored ones.
    let next = NewAccount { login: "auditor".into(), roles: vec![Role::Auditor], department: None, ..new_like(&clerk) };
    assert!(target.create_account(&next).await.unwrap().unwrap().id > clerk.id);
    // The node must confirm its own log before it writes again.
    assert!(target.restored_unconfirmed().await.unwrap());
    target.confirm_restored().await.unwrap();
    assert!(!target.restored_unconfirmed().await.unwrap());

    // A second restore into the now non-empty store is refused and changes nothing.
    let err = target.restore(&mut records.into_iter().map(Ok), &keys).await.unwrap_err();
    assert!(err.to_string().contains("not empty"), "{err}");
    assert_eq!(target.count_entries().await.unwrap(), 2);
    source.close().await;
    target.close().await;
}

fn new_like(a: &quanze_store::AccountRow) -> NewAccount {
    NewAccount {
        login: a.login.clone(),
        name: a.name.clone(),
        roles: a.roles.clone(),
        department: a.department.clone(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        created_at: 1_700_000_001,
    }
}

async fn every_table_is_classified(db: &TestDb) {
    let store = db.open().await;
    store.close().await;
    for table in db.raw_table_names().await {
        let known = LOCAL_TABLES.iter().any(|(t, _)| *t == table)
            || REBUILT_TABLES.contains(&table.as_str())
            || STORE_TABLES.contains(&table.as_str());
        assert!(known, "table {table} is neither backed up, rebuilt nor the store's own: classify it in backup.rs");
    }
}
