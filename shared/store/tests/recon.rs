//! Conformance of the calendar, publication and reconciliation projections on every backend
//! (`sqlite_<name>` on a temporary file, `postgres_<name>` on `QUANZE_TEST_DATABASE_URL`): the
//! root publishes a calendar year and a catalogue change; the county adopts with item ops in the
//! same entry; an adoption the list does not back is refused; the township deviates; a city may
//! not publish the calendar. A rebuild reproduces every projection.

mod common;

use common::data::*;
use common::ingest::{deliver, no_fallback};
use common::on_each_backend;
use quanze_domain::calendar::Calendar;
use quanze_domain::{CatalogueChange, Op, PubRef, Publication, Tier};
use quanze_store::Store;

on_each_backend! {
    a_publication_is_reconciled_below
        => sqlite_a_publication_is_reconciled_below, postgres_a_publication_is_reconciled_below;
}

fn publication() -> Publication {
    Publication {
        doc_no: "川府发〔2025〕3号".into(),
        title: "关于调整行政许可事项目录的通知".into(),
        published: "2025-02-24".parse().unwrap(),
        effective: "2025-02-24".parse().unwrap(),
        tiers: vec![Tier::County, Tier::Township],
        window: Default::default(),
        changes: vec![
            CatalogueChange::Add {
                item: catalogue_item(1, 500, "四川省"), tiers: vec![Tier::County, Tier::Township]
            },
            CatalogueChange::Add { item: catalogue_item(2, 501, "四川省"), tiers: vec![Tier::County] },
        ],
    }
}

async fn a_publication_is_reconciled_below(store: Store) {
    let mut fed = Federation::new();
    store.set_trust_root(&division(SICHUAN), &fed.province.public()).await.unwrap();
    let chain = fed.chain();
    let year = Calendar::builtin_years().into_iter().find(|y| y.year == 2025).unwrap();
    let calendar = fed.province.sign(vec![Op::CalendarYear { year }]);
    let published = fed.province.sign(vec![Op::Publish { publication: publication() }]);
    let mut first = chain.clone();
    first.extend([calendar, published.clone()]);
    assert!(deliver(&store, &first).await.iter().all(|d| d.starts_with("applied")));
    assert_eq!(store.calendar().await.unwrap().years(), vec![2025]);
    let held = store.publications_by_doc_no("川府发〔2025〕3号").await.unwrap();
    assert_eq!(held.len(), 1);
    assert!(held[0].requirements.is_empty(), "listings leave the requirements out");
    assert_eq!(held[0].required_by_tier, [(Tier::County, 2), (Tier::Township, 1)].into());
    let full = store.publication(&division(SICHUAN), published.seq(), true).await.unwrap().unwrap();
    assert_eq!(full.requirements.len(), 2);
    let reference = PubRef { origin: division(SICHUAN), seq: published.seq(), hash: published.hash().to_string() };

    // The county adopts both items, one with its own implementing body, in one entry.
    let mut a = catalogue_item(1, 500, "泸县");
    a.time_limit.promised_days = Some(5);
    let b = catalogue_item(2, 501, "四川省");
    let (code_a, code_b) = (a.code.clone(), b.code.clone());
    let adopt = Op::ReconAdopt { publication: reference.clone(), codes: vec![] };
    let county = fed.county.sign(vec![add(a), add(b), adopt.clone()]);
    // The township claims an adoption its list does not back: refused, nothing applied.
    let hollow = fed.township.next(vec![adopt.clone()]);
    let out = deliver(&store, &[county, hollow]).await;
    assert!(out[0].starts_with("applied"), "{out:?}");
    assert!(out[1].starts_with("RULE") && out[1].contains(&code_a), "{out:?}");
    let deviate = Op::ReconDeviate {
        publication: reference.clone(),
        codes: vec![],
        reason: "本镇无此业务".into(),
        basis: "《四川省乡镇权责清单管理办法》第八条".into(),
    };
    let township = fed.township.sign(vec![deviate]);
    // A city cannot publish the calendar (only the root).
    let year = Calendar::builtin_years().into_iter().find(|y| y.year == 2024).unwrap();
    let city_calendar = fed.city.next(vec![Op::CalendarYear { year }]);
    let out = deliver(&store, &[township, city_calendar]).await;
    assert!(out[0].starts_with("applied"), "{out:?}");
    assert!(out[1].starts_with("UNAUTHORISED"), "{out:?}");
    assert_eq!(store.calendar().await.unwrap().years(), vec![2025]);

    let tasks = store.tasks_of_publication(&division(SICHUAN), published.seq()).await.unwrap();
    let summary: Vec<(&str, &str, u64, u64, u64)> =
        tasks.iter().map(|t| (t.node.as_str(), t.status.as_str(), t.required, t.resolved, t.deviated)).collect();
    assert_eq!(summary, [(LUXIAN, "adopted", 2, 2, 0), (FUJI, "deviated", 1, 1, 1)]);
    let codes = store.task_codes(&division(LUXIAN), &reference).await.unwrap();
    let mut expected = [code_a.as_str(), code_b.as_str()];
    expected.sort();
    assert_eq!(codes.iter().map(|c| c.code.as_str()).collect::<Vec<_>>(), expected);
    let catalogue = store.catalogue(&[SICHUAN.to_string()]).await.unwrap();
    assert_eq!(catalogue.len(), 2);

    // A second adoption of a closed task is refused.
    let again = fed.county.next(vec![adopt]);
    let out = deliver(&store, &[again]).await;
    assert!(out[0].starts_with("RULE") && out[0].contains("已办结"), "{out:?}");

    let before = store.snapshot().await.unwrap();
    assert!(before.iter().any(|l| l.starts_with("recon_tasks ")));
    store.rebuild(&no_fallback).await.unwrap();
    assert_eq!(store.snapshot().await.unwrap(), before);
}
