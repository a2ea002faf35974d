use std::collections::BTreeSet;

use chrono::NaiveDate;
use proptest::prelude::*;

use super::*;
use crate::calendar::Calendar;
use crate::item::tests::food_licence;

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn div(s: &str) -> DivisionCode {
    DivisionCode::parse(s).unwrap()
}

fn cite(law: &str) -> Citation {
    Citation { law: law.into(), article: "第一条".into() }
}

#[test]
fn local_regulations_are_told_from_national_ones() {
    for law in [
        "四川省村庄规划建设管理条例",
        "《泸州市城市管理条例》",
        "黑龙江省森林防火条例",
        "内蒙古自治区草原管理条例",
        "凉山彝族自治州禁毒条例",
    ] {
        assert!(is_local_citation(&cite(law)), "{law}");
    }
    for law in [
        "中华人民共和国食品安全法",
        "城市市容和环境卫生管理条例",
        "市场主体登记管理条例",
        "国务院关于特大安全事故行政责任追究的规定",
        "风景名胜区条例",
        "自然保护区条例",
        "城镇排水与污水处理条例",
    ] {
        assert!(!is_local_citation(&cite(law)), "{law}");
    }
}

#[test]
fn equal_bases_have_equal_fingerprints() {
    let a = vec![
        cite("中华人民共和国食品安全法"),
        Citation { law: " 中华人民共和国食品安全法".into(), article: "第三十五条 ".into() },
    ];
    let b = vec![
        cite("中华人民共和国食品安全法"),
        Citation { law: "中华人民共和国食品安全法".into(), article: "第三十五条".into() },
    ];
    assert_eq!(basis_fingerprint(&a), basis_fingerprint(&b));
    assert_ne!(basis_fingerprint(&a), basis_fingerprint(&a[..1]));
    assert_eq!(basis_text(&b[1..]), "《中华人民共和国食品安全法》第三十五条");
}

#[test]
fn scopes_parse_and_select() {
    assert_eq!(Scope::parse("510500").unwrap(), Scope::Division(div("510500")));
    assert_eq!(Scope::parse("tier:county").unwrap(), Scope::Tier(Tier::County));
    assert!(Scope::parse("tier:village").unwrap_err().contains("tier"));
    assert!(Scope::parse("51050").is_err());
    let city = Scope::parse("510500").unwrap();
    assert!(city.contains(&div("510521100")) && city.contains(&div("510500")) && !city.contains(&div("510300")));
    assert!(RuleId::ALL.iter().all(|r| RuleId::parse(r.id()) == Some(*r) && RuleId::parse(r.key()) == Some(*r)));
}

#[test]
fn gaps_name_the_empty_elements() {
    let mut item = food_licence();
    assert!(Gaps::of(&item).is_empty());
    item.responsibilities = vec![" ".into()];
    item.accountability.clear();
    assert_eq!(Gaps::of(&item).labels(), vec!["责任事项", "追责情形"]);
}

const NODES: [&str; 6] = ["510000", "510500", "510521", "510522", "510524", "510521100"];
const CODES: [&str; 4] = ["XK00101000", "XK00102000", "XK00103000", "XK00104000"];

/// A small federation: the province publishes requirements for some codes; nodes hold items
/// in one of two forms (or none, or cancelled); deviations, closings, filings and a grant.
fn arb_input() -> impl Strategy<Value = AuditInput> {
    let reqs = proptest::collection::vec((0usize..4, 0u8..3, any::<bool>()), 0..5);
    let items = proptest::collection::vec((1usize..6, 0usize..4, 0u8..2, 0u8..3, any::<bool>(), any::<bool>()), 0..20);
    let devs = proptest::collection::vec((2usize..5, 0usize..4), 0..3);
    (reqs, items, devs, any::<bool>()).prop_map(|(reqs, items, devs, closed)| {
        let mut input = AuditInput {
            nodes: NODES.iter().map(|n| NodeFact { division: div(n), name: (*n).into() }).collect(),
            scope: NODES.iter().map(|n| div(n)).collect(),
            ..Default::default()
        };
        input.publications.push(PublicationFact {
            evidence: EntryRef::new("510000", 2),
            doc_no: "川府发〔2025〕1号".into(),
            published: day("2025-01-06"),
            tiers: vec![Tier::County, Tier::Township],
            window: Window::default(),
            day: day("2025-01-06"),
        });
        for (code, form, county_only) in reqs {
            let expect = match form {
                0 => Expected::Absent { reason: "取消".into() },
                f => Expected::Present {
                    name: format!("许可{f}"),
                    category: Category::Licensing,
                    basis_fp: i64::from(f),
                    basis: format!("依据{f}"),
                },
            };
            let tiers = if county_only { vec![Tier::County] } else { vec![Tier::County, Tier::Township] };
            input.requirements.push(RequirementFact { publication: 0, code: CODES[code].into(), tiers, expect });
        }
        let mut seen = BTreeSet::new();
        for (n, c, status, form, gaps, local) in items {
            if !seen.insert((n, c)) {
                continue;
            }
            input.items.push(ItemFact {
                node: div(NODES[n]),
                code: CODES[c].into(),
                name: format!("许可{}", form.max(1)),
                category: Category::Licensing,
                status: if status == 0 { ItemStatus::Active } else { ItemStatus::Cancelled },
                basis_fp: i64::from(form),
                basis: format!("依据{form}"),
                local_basis: local,
                gaps: Gaps(if gaps { Gaps::ACCOUNTABILITY } else { 0 }),
                grant: None,
                since: day("2025-01-20"),
                evidence: EntryRef::new(NODES[n], 5),
            });
        }
        for (n, c) in devs {
            input.deviations.push(DeviationFact {
                node: div(NODES[n]),
                publication: EntryRef::new("510000", 2),
                code: Some(CODES[c].into()),
                resolution: crate::recon::Resolution::Deviated,
                evidence: EntryRef::new(NODES[n], 6),
            });
        }
        if closed {
            input.closings.push(ClosingFact {
                node: div("510521"),
                publication: 0,
                day: day("2025-03-20"),
                evidence: EntryRef::new("510521", 7),
            });
        }
        input.grants.push(GrantFact {
            grant_ref: "510500#3".into(),
            doc_no: "泸市府发〔2025〕4号".into(),
            grantor: div("510500"),
            grantee: div("510522"),
            handover_due: day("2025-01-27"),
            items: vec![(CODES[3].into(), None)],
            evidence: EntryRef::new("510500", 3),
        });
        input
    })
}

/// `input` restricted to one code's facts (what the store loads to refresh that partition).
fn slice(input: &AuditInput, code: &str) -> AuditInput {
    let mut s = input.clone();
    s.items.retain(|i| i.code == code);
    s.requirements.retain(|r| r.code == code);
    s.deviations.retain(|d| d.code.as_deref().is_none_or(|c| c == code));
    s
}

proptest! {
    /// The incremental cache's premise: evaluating one code's facts gives exactly the full
    /// evaluation's findings and units of that code's partition.
    #[test]
    fn a_partition_evaluates_alone(input in arb_input()) {
        let cal = Calendar::builtin();
        let whole = evaluate(&input, &cal, None).unwrap();
        let mut union: Vec<Finding> = whole.findings.iter().filter(|f| !f.is_item).cloned().collect();
        let mut held: std::collections::BTreeMap<DivisionCode, u64> = std::collections::BTreeMap::new();
        for code in CODES {
            let part = code_partition(code);
            let alone = evaluate(&slice(&input, code), &cal, None).unwrap();
            union.extend(alone.findings.into_iter().filter(|f| partition_of(f) == part));
            prop_assert!(alone.units.checked.keys().all(|(p, _)| !p.starts_with("code:")));
            for (node, n) in alone.units.held {
                *held.entry(node).or_insert(0) += n;
            }
        }
        union.sort_by(|a, b| (&a.node, a.rule, &a.subject).cmp(&(&b.node, b.rule, &b.subject)));
        prop_assert_eq!(union, whole.findings);
        prop_assert_eq!(held, whole.units.held);
    }

    /// As of a day, exactly the findings that hold by then; later days only add findings when
    /// the facts are the same.
    #[test]
    fn as_of_filters_by_the_first_day(input in arb_input()) {
        let cal = Calendar::builtin();
        let whole = evaluate(&input, &cal, None).unwrap();
        let early = evaluate(&input, &cal, Some(day("2025-02-01"))).unwrap();
        let late = evaluate(&input, &cal, Some(day("2025-06-30"))).unwrap();
        prop_assert!(early.findings.iter().all(|f| f.from <= day("2025-02-01")));
        prop_assert!(early.findings.iter().all(|f| late.findings.contains(f)));
        prop_assert_eq!(late.findings.len(), whole.findings.iter().filter(|f| f.from <= day("2025-06-30")).count());
        let report = AuditReport::build(&Scope::Division(div("510000")), day("2025-06-30"), &input.nodes, late);
        prop_assert!(report.nodes.iter().all(|n| n.failing <= n.units && (0.0..=1.0).contains(&n.score)));
    }
}

#[test]
fn each_requirement_rule_fires_once_and_deviation_exempts() {
    let cal = Calendar::builtin();
    let mut input = AuditInput {
        nodes: ["510000", "510500", "510521", "510522"]
            .iter()
            .map(|n| NodeFact { division: div(n), name: (*n).into() })
            .collect(),
        scope: ["510000", "510500", "510521", "510522"].iter().map(|n| div(n)).collect(),
        ..Default::default()
    };
    input.publications.push(PublicationFact {
        evidence: EntryRef::new("510000", 2),
        doc_no: "川府发〔2025〕1号".into(),
        published: day("2025-01-06"),
        tiers: vec![Tier::County],
        window: Window::default(),
        day: day("2025-01-06"),
    });
    let present = Expected::Present {
        name: "食品经营许可".into(),
        category: Category::Licensing,
        basis_fp: 7,
        basis: "《食品安全法》第三十五条".into(),
    };
    input.requirements.push(RequirementFact {
        publication: 0,
        code: CODES[0].into(),
        tiers: vec![Tier::County],
        expect: present,
    });
    let held = ItemFact {
        node: div("510521"),
        code: CODES[0].into(),
        name: "食品经营许可证核发".into(),
        category: Category::Licensing,
        status: ItemStatus::Active,
        basis_fp: 7,
        basis: "《食品安全法》第三十五条".into(),
        local_basis: false,
        gaps: Gaps::default(),
        grant: None,
        since: day("2025-01-20"),
        evidence: EntryRef::new("510521", 4),
    };
    input.items.push(held);
    let ev = evaluate(&input, &cal, Some(day("2025-03-03"))).unwrap();
    let rules: Vec<(String, RuleId)> = ev.findings.iter().map(|f| (f.node.to_string(), f.rule)).collect();
    assert_eq!(
        rules,
        vec![
            ("510521".into(), RuleId::UniformMismatch),
            ("510521".into(), RuleId::ReconOverdue),
            ("510522".into(), RuleId::CatalogueMissing),
            ("510522".into(), RuleId::ReconOverdue),
        ]
    );
    // Within the window nothing is due yet.
    assert!(evaluate(&input, &cal, Some(day("2025-01-31"))).unwrap().findings.is_empty());
    // A recorded deviation exempts the code; a closing on time closes the task.
    input.deviations.push(DeviationFact {
        node: div("510521"),
        publication: EntryRef::new("510000", 2),
        code: Some(CODES[0].into()),
        resolution: crate::recon::Resolution::Deviated,
        evidence: EntryRef::new("510521", 5),
    });
    input.closings.push(ClosingFact {
        node: div("510521"),
        publication: 0,
        day: day("2025-01-20"),
        evidence: EntryRef::new("510521", 5),
    });
    let ev = evaluate(&input, &cal, Some(day("2025-03-03"))).unwrap();
    assert!(ev.findings.iter().all(|f| f.node.as_str() == "510522"), "{:?}", ev.findings);
}

#[test]
fn a_deadline_in_a_year_not_published_is_not_judged_and_fails_nothing() {
    let cal = Calendar::builtin();
    let mut input = AuditInput {
        nodes: ["510500", "510521"].iter().map(|n| NodeFact { division: div(n), name: (*n).into() }).collect(),
        scope: vec![div("510521")],
        ..Default::default()
    };
    // A publication whose window ends in 2099 and a filing triggered in year 60: no arrangement.
    input.publications.push(PublicationFact {
        evidence: EntryRef::new("510500", 2),
        doc_no: "泸市府发〔2099〕1号".into(),
        published: day("2099-01-06"),
        tiers: vec![Tier::County],
        window: Window::default(),
        day: day("2099-01-06"),
    });
    input.requirements.push(RequirementFact {
        publication: 0,
        code: CODES[0].into(),
        tiers: vec![Tier::County],
        expect: Expected::Present {
            name: "食品经营许可".into(),
            category: Category::Licensing,
            basis_fp: 7,
            basis: "《食品安全法》第三十五条".into(),
        },
    });
    let filing = |trigger: &str, filed: &str, seq: u64| FilingFact {
        node: div("510521"),
        department: "泸县市场监督管理局".into(),
        trigger_date: day(trigger),
        filed_on: day(filed),
        window: Window::default(),
        summary: "取消一项许可".into(),
        evidence: EntryRef::new("510521", seq),
    };
    input.filings.push(filing("0060-03-01", "2026-12-03", 3));
    let ev = evaluate(&input, &cal, None).unwrap();
    assert!(ev.findings.is_empty(), "{:?}", ev.findings);

    // The facts whose deadlines are known are still judged beside them.
    input.filings.push(filing("2025-01-06", "2025-06-30", 4));
    input.publications[0].published = day("2025-01-06");
    let ev = evaluate(&input, &cal, None).unwrap();
    let rules: Vec<RuleId> = ev.findings.iter().map(|f| f.rule).collect();
    assert_eq!(rules, vec![RuleId::CatalogueMissing, RuleId::ReconOverdue, RuleId::FilingLate]);
}
