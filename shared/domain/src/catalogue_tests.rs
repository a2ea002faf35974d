//! Tests of `catalogue.rs`: each change kind, and every refusal.

use std::collections::HashMap;

use super::*;
use crate::item::Citation;
use crate::item::tests::food_licence;

pub(crate) fn cat_item(code: &str, name: &str) -> PowerItem {
    PowerItem { code: code.into(), name: name.into(), ..food_licence() }
}

pub(crate) fn publication(changes: Vec<CatalogueChange>) -> Publication {
    Publication {
        doc_no: "川府发〔2025〕12号".into(),
        title: "关于调整省级权责清单目录的通知".into(),
        published: "2025-09-28".parse().unwrap(),
        effective: "2025-10-01".parse().unwrap(),
        tiers: vec![Tier::City, Tier::County, Tier::Township],
        window: Window::default(),
        changes,
    }
}

fn catalogue(items: &[(&str, &[Tier])]) -> HashMap<String, CatalogueItem> {
    items
        .iter()
        .map(|(code, tiers)| (code.to_string(), CatalogueItem { item: cat_item(code, "事项"), tiers: tiers.to_vec() }))
        .collect()
}

fn run(cat: &HashMap<String, CatalogueItem>, changes: Vec<CatalogueChange>) -> Result<Plan, CatalogueError> {
    plan(&publication(changes), |code| cat.get(code).cloned())
}

const CCT: &[Tier] = &[Tier::City, Tier::County, Tier::Township];

#[test]
fn an_add_requires_the_item_where_it_is_exercised() {
    let p = run(
        &catalogue(&[]),
        vec![CatalogueChange::Add {
            item: cat_item("XK00035000", "食品经营许可"),
            tiers: vec![Tier::County, Tier::City, Tier::County],
        }],
    )
    .unwrap();
    assert_eq!(p.catalogue.len(), 1);
    assert_eq!(p.catalogue[0].tiers, vec![Tier::City, Tier::County], "tiers are a sorted set");
    assert_eq!(p.requirements[0].code, "XK00035000");
    assert!(matches!(&p.requirements[0].expect, Expect::Present { item } if item.name == "食品经营许可"));
}

#[test]
fn cancel_adjust_and_delegate_act_on_active_items_only() {
    let cat = catalogue(&[("XK00035000", CCT), ("CF00001000", &[Tier::City])]);
    let p = run(&cat, vec![CatalogueChange::Cancel { code: "XK00035000".into(), reason: "法律修改".into() }]).unwrap();
    assert_eq!(p.catalogue[0].item.status, ItemStatus::Cancelled);
    assert!(
        matches!(&p.requirements[0].expect, Expect::Absent { reason, .. } if reason.contains("川府发〔2025〕12号"))
    );

    let patch = ItemPatch { name: Some("食品经营许可（新）".into()), ..Default::default() };
    let p = run(&cat, vec![CatalogueChange::Adjust { code: "XK00035000".into(), patch }]).unwrap();
    assert_eq!(p.catalogue[0].item.name, "食品经营许可（新）");
    assert_eq!(p.requirements[0].tiers, CCT.to_vec());

    let down =
        CatalogueChange::Delegate { code: "CF00001000".into(), tiers: vec![Tier::County], reason: "赋权".into() };
    let p = run(&cat, vec![down]).unwrap();
    assert_eq!(p.catalogue[0].tiers, vec![Tier::County]);
    assert_eq!(p.requirements.len(), 2, "absent at the city, present at the county");
    assert!(
        matches!(p.requirements[0].expect, Expect::Absent { delegated: true, .. })
            && p.requirements[0].tiers == vec![Tier::City],
        "the city gives the item up as delegated"
    );
    assert!(
        matches!(p.requirements[1].expect, Expect::Present { .. }) && p.requirements[1].tiers == vec![Tier::County]
    );

    let up = CatalogueChange::Delegate { code: "XK00035000".into(), tiers: vec![Tier::City], reason: "上收".into() };
    assert!(matches!(run(&cat, vec![up]), Err(CatalogueError::NotDownward { .. })));
    let unknown = CatalogueChange::Cancel { code: "QT99999000".into(), reason: "x".into() };
    assert_eq!(run(&cat, vec![unknown]).unwrap_err(), CatalogueError::UnknownCode("QT99999000".into()));
}

#[test]
fn a_cancelled_code_is_neither_changed_nor_reused() {
    let mut cat = catalogue(&[("XK00035000", CCT)]);
    cat.get_mut("XK00035000").unwrap().item.status = ItemStatus::Cancelled;
    let adjust = CatalogueChange::Adjust {
        code: "XK00035000".into(),
        patch: ItemPatch { name: Some("n".into()), ..Default::default() },
    };
    assert!(matches!(run(&cat, vec![adjust]), Err(CatalogueError::UnknownCode(_))));
    let again = CatalogueChange::Add { item: cat_item("XK00035000", "食品经营许可"), tiers: CCT.to_vec() };
    assert!(matches!(run(&cat, vec![again]), Err(CatalogueError::DuplicateCode(_))));
}

#[test]
fn merge_and_split_end_old_codes_and_bring_new_ones() {
    let cat = catalogue(&[("XK00001000", &[Tier::City]), ("XK00002000", &[Tier::County])]);
    let merge = CatalogueChange::Merge {
        codes: vec!["XK00001000".into(), "XK00002000".into()],
        into: cat_item("XK00003000", "合并后的许可"),
        reason: "优化审批".into(),
    };
    let p = run(&cat, vec![merge]).unwrap();
    let new = p.catalogue.iter().find(|c| c.item.code == "XK00003000").unwrap();
    assert_eq!(new.tiers, vec![Tier::City, Tier::County]);
    assert_eq!(p.catalogue.iter().filter(|c| !c.is_active()).count(), 2);
    assert_eq!(p.requirements.len(), 3);

    let split = CatalogueChange::Split {
        code: "XK00001000".into(),
        into: vec![cat_item("XK00004000", "甲"), cat_item("XK00005000", "乙")],
        reason: "拆分".into(),
    };
    let p = run(&cat, vec![split]).unwrap();
    assert_eq!(p.catalogue.len(), 3);
    assert!(p.catalogue.iter().filter(|c| c.is_active()).all(|c| c.tiers == vec![Tier::City]));
    let one = CatalogueChange::Split {
        code: "XK00001000".into(),
        into: vec![cat_item("XK00004000", "甲")],
        reason: "r".into(),
    };
    assert!(matches!(run(&cat, vec![one]), Err(CatalogueError::TooFew(_))));
}

#[test]
fn bad_publications_are_refused_whole() {
    let cat = catalogue(&[("XK00035000", CCT)]);
    let twice = vec![
        CatalogueChange::Cancel { code: "XK00035000".into(), reason: "a".into() },
        CatalogueChange::Adjust {
            code: "XK00035000".into(),
            patch: ItemPatch { name: Some("b".into()), ..Default::default() },
        },
    ];
    assert_eq!(run(&cat, twice).unwrap_err(), CatalogueError::ChangedTwice("XK00035000".into()));
    let no_reason = CatalogueChange::Cancel { code: "XK00035000".into(), reason: " ".into() };
    assert!(matches!(run(&cat, vec![no_reason]), Err(CatalogueError::MissingReason(_))));
    let mut bad = cat_item("XK00036000", "x");
    bad.basis = vec![Citation { law: String::new(), article: String::new() }];
    let invalid = CatalogueChange::Add { item: bad, tiers: CCT.to_vec() };
    assert!(matches!(run(&cat, vec![invalid]), Err(CatalogueError::Invalid { .. })));
    let no_tiers = CatalogueChange::Add { item: cat_item("XK00036000", "x"), tiers: vec![] };
    assert!(matches!(run(&cat, vec![no_tiers]), Err(CatalogueError::NoTiers(_))));

    let mut p = publication(vec![]);
    assert!(matches!(plan(&p, |_| None), Err(CatalogueError::Missing(_))));
    p.changes = vec![CatalogueChange::Cancel { code: "XK00035000".into(), reason: "a".into() }];
    p.doc_no = " ".into();
    assert!(matches!(plan(&p, |c| cat.get(c).cloned()), Err(CatalogueError::Missing(_))));
    p.doc_no = "川府发〔2025〕12号".into();
    p.effective = "2025-09-01".parse().unwrap();
    assert!(matches!(plan(&p, |c| cat.get(c).cloned()), Err(CatalogueError::EffectiveBeforePublished { .. })));
}

#[test]
fn publications_serialise_with_kind_tags_and_default_window() {
    let p = publication(vec![CatalogueChange::Cancel { code: "XK00035000".into(), reason: "法律修改".into() }]);
    let mut json = serde_json::to_value(&p).unwrap();
    assert_eq!(json["changes"][0]["kind"], "cancel");
    assert_eq!(json["published"], "2025-09-28");
    json.as_object_mut().unwrap().remove("window");
    let back: Publication = serde_json::from_value(json).unwrap();
    assert_eq!(back.window, Window::default());
    assert_eq!(back, p);
}
