//! The uniformity audit on every backend, over a crafted federation of four tiers: 四川省 (the
//! root), 泸州市, three peer counties (泸县, 合江县, 叙永县) and the township 福集镇. One violation of
//! every rule is injected (a few rules twice, where the same act breaks two rules) among clean
//! items, and the audit must find exactly those — nothing more, nothing missing. An audit of a
//! past day is the same before and after a later fix; the cached findings kept incrementally
//! equal a full recomputation.

mod common;

use std::collections::BTreeSet;

use chrono::NaiveDate;
use common::data::*;
use common::ingest::deliver;
use common::on_each_backend;
use quanze_domain::audit::{AuditReport, NodeFact, RuleId, Scope, evaluate};
use quanze_domain::calendar::Calendar;
use quanze_domain::grants::{GrantBatch, GrantItem, GrantKind, GrantRef, Seal};
use quanze_domain::{CatalogueChange, Citation, ItemPatch, Op, PowerItem, PubRef, Publication, Tier};
use quanze_ledger::VerifiedEntry;
use quanze_store::Store;

on_each_backend! {
    the_audit_finds_exactly_the_injected_violations
        => sqlite_the_audit_finds_exactly_the_injected_violations, postgres_the_audit_finds_exactly_the_injected_violations;
}

const HEJIANG: &str = "510522";
const XUYONG: &str = "510524";

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn pub_ref(e: &VerifiedEntry) -> PubRef {
    PubRef { origin: e.origin().clone(), seq: e.seq(), hash: e.hash().to_string() }
}

/// A complete item with the given code, name and basis.
fn item(code: &str, name: &str, law: &str, article: &str, body: &str) -> PowerItem {
    let mut i = catalogue_item(0, 1, "泸县");
    i.code = code.into();
    i.category = quanze_domain::Category::from_letters(&code[..2]).unwrap();
    i.name = name.into();
    i.basis = vec![Citation { law: law.into(), article: article.into() }];
    i.implementing_body = body.into();
    i
}

/// The province's catalogue for counties: four licences.
fn k(n: usize) -> PowerItem {
    let (code, name, law, article) = [
        ("XK00101000", "食品经营许可", "中华人民共和国食品安全法", "第三十五条"),
        ("XK00102000", "建筑工程施工许可", "中华人民共和国建筑法", "第七条"),
        ("XK00103000", "取水许可", "中华人民共和国水法", "第四十八条"),
        ("XK00104000", "烟花爆竹零售经营许可", "烟花爆竹安全管理条例", "第十九条"),
    ][n];
    item(code, name, law, article, "县级行政审批局")
}

/// Local items: L1 and L3 rest on local regulations, L2 on a national law only.
fn local(n: usize, name: &str) -> PowerItem {
    let (code, law, article) = [
        ("JC00901000", "泸州市城市管理条例", "第十二条"),
        ("CF00902000", "中华人民共和国广告法", "第五十八条"),
        ("JC00903000", "泸州市长江流域水生生物保护条例", "第九条"),
    ][n];
    item(code, name, law, article, "县城市管理局")
}

fn publication(doc_no: &str, published: &str, changes: Vec<CatalogueChange>) -> Publication {
    Publication {
        doc_no: doc_no.into(),
        title: "关于调整县级行政许可事项目录的通知".into(),
        published: day(published),
        effective: day(published),
        tiers: vec![Tier::County],
        window: Default::default(),
        changes,
    }
}

struct World {
    province: Writer,
    city: Writer,
    counties: [Writer; 3],
    township: Writer,
}

/// Every finding as (node, rule, subject).
fn found(report: &AuditReport) -> BTreeSet<(String, RuleId, String)> {
    report.findings.iter().map(|f| (f.node.to_string(), f.rule, f.subject.clone())).collect()
}

async fn audit(store: &Store, as_of: &str) -> AuditReport {
    let scope = Scope::Division(division(SICHUAN));
    let extra = [NodeFact { division: division(SICHUAN), name: "四川省".into() }];
    let input = store.audit_input(&scope, day(as_of), &extra).await.unwrap();
    let calendar = store.calendar().await.unwrap();
    let evaluation = evaluate(&input, &calendar, Some(day(as_of))).unwrap();
    let mut report = AuditReport::build(&scope, day(as_of), &input.nodes, evaluation);
    store.fill_evidence_hashes(&mut report.findings).await.unwrap();
    report
}

async fn cached(store: &Store, as_of: &str) -> AuditReport {
    let scope = Scope::Division(division(SICHUAN));
    let extra = [NodeFact { division: division(SICHUAN), name: "四川省".into() }];
    store.audit_refresh(&extra).await.unwrap();
    let nodes = store.audit_nodes(day(as_of), &extra).await.unwrap();
    let evaluation = store.audit_cached(&|d| scope.contains(d), day(as_of)).await.unwrap();
    let mut report = AuditReport::build(&scope, day(as_of), &nodes, evaluation);
    store.fill_evidence_hashes(&mut report.findings).await.unwrap();
    report
}

async fn build(store: &Store) -> World {
    let mut w = World {
        province: Writer::new(SICHUAN, 31),
        city: Writer::new(LUZHOU, 32),
        counties: [Writer::new(LUXIAN, 33), Writer::new(HEJIANG, 34), Writer::new(XUYONG, 35)],
        township: Writer::new(FUJI, 36),
    };
    store.set_trust_root(&division(SICHUAN), &w.province.public()).await.unwrap();
    let years: Vec<Op> = Calendar::builtin_years()
        .into_iter()
        .filter(|y| (2024..=2025).contains(&y.year))
        .map(|year| Op::CalendarYear { year })
        .collect();
    let mut setup = vec![w.province.sign_on("2025-01-02", [vec![enrol(&w.city, "泸州市")], years].concat())];
    let city_items = vec![
        add(item(
            "XK00201000",
            "城镇污水排入排水管网许可",
            "城镇排水与污水处理条例",
            "第二十一条",
            "泸州市住房和城乡建设局",
        )),
        add(item("XK00202000", "公路超限运输许可", "中华人民共和国公路法", "第五十条", "泸州市交通运输局")),
    ];
    let names = ["泸县", "合江县", "叙永县"];
    let enrols: Vec<Op> = w.counties.iter().zip(names).map(|(c, n)| enrol(c, n)).collect();
    setup.push(w.city.sign_on("2025-01-02", [enrols, city_items].concat()));
    setup.push(w.counties[0].sign_on("2025-01-02", vec![enrol(&w.township, "福集镇")]));
    // A10: the township's local item has no accountability cases.
    let mut t1 =
        item("JC00950000", "农村宅基地使用情况检查", "四川省村庄规划建设管理条例", "第二十条", "福集镇人民政府");
    t1.accountability.clear();
    setup.push(w.township.sign_on("2025-01-02", vec![add(t1)]));

    let p1 = w.province.sign_on(
        "2025-01-06",
        vec![Op::Publish {
            publication: publication(
                "川府发〔2025〕1号",
                "2025-01-06",
                (0..4).map(|n| CatalogueChange::Add { item: k(n), tiers: vec![Tier::County] }).collect(),
            ),
        }],
    );
    let batch = |grantee: &str, code: &str, dept: &str| GrantBatch {
        doc_no: format!("泸市府发〔2025〕{}号", if grantee == LUXIAN { 4 } else { 5 }),
        title: "泸州市赋予县级市级行政职权的决定".into(),
        issued: day("2025-01-06"),
        grantee: division(grantee),
        training_months: 3,
        items: vec![GrantItem {
            code: code.into(),
            grantor_dept: dept.into(),
            grantee_dept: format!("{}{}", if grantee == LUXIAN { "泸县" } else { "合江县" }, "住房和城乡建设局"),
            kind: None,
            provincial: false,
        }],
    };
    let b1 = w
        .city
        .sign_on("2025-01-06", vec![Op::GrantIssue { batch: batch(LUXIAN, "XK00201000", "泸州市住房和城乡建设局") }]);
    // A09: the batch to 合江县 is never accepted.
    let b2 =
        w.city.sign_on("2025-01-06", vec![Op::GrantIssue { batch: batch(HEJIANG, "XK00202000", "泸州市交通运输局") }]);
    let p2 = w.province.sign_on(
        "2025-01-08",
        vec![Op::Publish {
            publication: publication(
                "川府发〔2025〕2号",
                "2025-01-08",
                vec![CatalogueChange::Cancel { code: k(3).code, reason: "国务院决定取消".into() }],
            ),
        }],
    );
    setup.extend([p1.clone(), b1.clone(), b2, p2.clone()]);
    let (r1, r2) = (pub_ref(&p1), pub_ref(&p2));
    let codes = |ns: &[usize]| ns.iter().map(|n| k(*n).code).collect::<Vec<_>>();
    let adopt = |r: &PubRef, c: Vec<String>| Op::ReconAdopt { publication: r.clone(), codes: c };

    // 泸县: A01 (K2 renamed), A03 (L2), A06 (P1 left open); adopts P2; accepts its batch.
    let mut k2 = k(1);
    k2.name = "建设工程施工许可".into();
    let luxian = vec![
        add(k(0)),
        add(k2),
        add(k(2)),
        add(k(3)),
        add(local(0, "城市管理监督检查")),
        add(local(1, "违法广告发布处罚")),
        add(local(2, "长江流域禁捕检查")),
        adopt(&r1, codes(&[0, 2, 3])),
        cancel(&k(3).code, "目录已取消"),
        adopt(&r2, codes(&[3])),
        Op::GrantAccept {
            batch: GrantRef { origin: division(LUZHOU), seq: b1.seq(), hash: b1.hash().to_string() },
            departments: vec!["泸县住房和城乡建设局".into()],
            date: day("2025-01-20"),
        },
    ];
    // 合江县: A02 (K3 missing), A06 (P1 open); adopts P2; files one request on time.
    let hejiang = vec![
        add(k(0)),
        add(k(1)),
        add(k(3)),
        add(local(0, "城市管理监督检查")),
        add(local(2, "长江流域禁捕检查")),
        adopt(&r1, codes(&[0, 1, 3])),
        cancel(&k(3).code, "目录已取消"),
        adopt(&r2, codes(&[3])),
        Op::RequestFile {
            filing: quanze_domain::Filing {
                department: "合江县水务局".into(),
                trigger: quanze_domain::Trigger::BasisChanged,
                trigger_date: day("2025-01-13"),
                summary: "取水许可依据条款调整".into(),
                codes: vec![k(2).code],
            },
        },
    ];
    // 叙永县: A04 (K4 still active after P2), A05 (L3 named differently), A06 (P2 never done).
    let xuyong = vec![
        add(k(0)),
        add(k(1)),
        add(k(2)),
        add(k(3)),
        add(local(0, "城市管理监督检查")),
        add(local(2, "长江流域渔业资源保护检查")),
        adopt(&r1, codes(&[0, 1, 2, 3])),
    ];
    let [lx, hj, xy] = &mut w.counties;
    setup.push(lx.sign_on("2025-01-20", luxian));
    setup.push(hj.sign_on("2025-01-20", hejiang));
    setup.push(xy.sign_on("2025-01-20", xuyong));

    // A08: the seal for 泸县's batch is activated, the batch revoked, the seal never recalled.
    let seal = Seal {
        id: "LZ-ZJJ-SP-4".into(),
        name: "泸州市住房和城乡建设局行政审批专用章(4)".into(),
        kind: GrantKind::Approval,
        serial: 4,
        issuer: "泸州市住房和城乡建设局".into(),
        holder: division(LUXIAN),
        holder_dept: "泸县住房和城乡建设局".into(),
        scope: vec![GrantRef { origin: division(LUZHOU), seq: b1.seq(), hash: b1.hash().to_string() }],
        carved: day("2025-01-21"),
        registration: None,
        image_sha256: None,
    };
    setup.push(w.city.sign_on(
        "2025-01-21",
        vec![Op::SealCarve { seal: seal.clone() }, Op::SealDeliver { seal: seal.id.clone(), date: day("2025-01-21") }],
    ));
    setup.push(w.counties[0].sign_on(
        "2025-01-22",
        vec![Op::SealActivate { grantor: division(LUZHOU), seal: seal.id.clone(), date: day("2025-01-22") }],
    ));
    setup.push(w.city.sign_on(
        "2025-02-14",
        vec![Op::GrantRevoke {
            batch: GrantRef { origin: division(LUZHOU), seq: b1.seq(), hash: b1.hash().to_string() },
            codes: vec![],
            reason: "承接能力不足，收回".into(),
            date: day("2025-02-14"),
        }],
    ));
    // A07: 泸县's department files two months after the trigger.
    setup.push(w.counties[0].sign_on(
        "2025-02-20",
        vec![Op::RequestFile {
            filing: quanze_domain::Filing {
                department: "泸县市场监督管理局".into(),
                trigger: quanze_domain::Trigger::NewPower,
                trigger_date: day("2024-12-02"),
                summary: "新增电子商务经营者监督检查".into(),
                codes: vec![],
            },
        }],
    ));
    let out = deliver(store, &setup).await;
    assert!(out.iter().all(|d| d.starts_with("applied")), "{out:#?}");
    w
}

async fn the_audit_finds_exactly_the_injected_violations(store: Store) {
    let mut w = build(&store).await;
    let p1 = "川府发〔2025〕1号（510000#2）".to_string();
    let p2 = "川府发〔2025〕2号（510000#3）".to_string();
    let expected: BTreeSet<(String, RuleId, String)> = [
        (LUXIAN, RuleId::UniformMismatch, k(1).code),
        (HEJIANG, RuleId::CatalogueMissing, k(2).code),
        (LUXIAN, RuleId::NoCounterpart, local(1, "").code),
        (XUYONG, RuleId::WithdrawnStillActive, k(3).code),
        (XUYONG, RuleId::PeerDisagreement, local(2, "").code),
        (LUXIAN, RuleId::ReconOverdue, p1.clone()),
        (HEJIANG, RuleId::ReconOverdue, p1),
        (XUYONG, RuleId::ReconOverdue, p2),
        (LUXIAN, RuleId::FilingLate, format!("调整申请 {LUXIAN}#4")),
        (LUXIAN, RuleId::SealMisuse, format!("{LUZHOU}/LZ-ZJJ-SP-4")),
        (HEJIANG, RuleId::GrantItemMissing, "XK00202000".to_string()),
        (FUJI, RuleId::Incomplete, "JC00950000".to_string()),
    ]
    .into_iter()
    .map(|(n, r, s)| (n.to_string(), r, s))
    .collect();
    let before = audit(&store, "2025-03-03").await;
    assert_eq!(found(&before), expected, "{:#?}", before.findings);
    assert!(RuleId::ALL.iter().all(|r| expected.iter().any(|(_, rule, _)| rule == r)), "every rule is exercised");

    // Evidence: each finding cites real entries with their hashes.
    assert!(before.findings.iter().all(|f| !f.evidence.is_empty() && f.evidence.iter().all(|e| e.hash.len() == 64)));
    let a01 = before.findings.iter().find(|f| f.rule == RuleId::UniformMismatch).unwrap();
    assert_eq!(a01.differences[0].expected, "建筑工程施工许可");
    assert_eq!(a01.differences[0].actual, "建设工程施工许可");
    let a05 = before.findings.iter().find(|f| f.rule == RuleId::PeerDisagreement).unwrap();
    assert_eq!(a05.differences[0].expected, "长江流域禁捕检查", "the majority form is shown");
    // Scores: the township has one unit, failing; the city has none failing.
    let node = |d: &str| before.nodes.iter().find(|n| n.division.as_str() == d).unwrap();
    assert_eq!((node(FUJI).units, node(FUJI).failing, node(FUJI).score), (1, 1, 0.0));
    assert_eq!(node(LUZHOU).failing, 0);
    assert_eq!(node(LUXIAN).counts["A01"], 1);
    assert_eq!(before.rules.iter().find(|r| r.id == "A06").unwrap().findings, 3);

    // Before the deadlines passed the same facts give fewer findings; before the seal's batch
    // was revoked there is no seal finding.
    let early = audit(&store, "2025-01-25").await;
    assert!(
        early
            .findings
            .iter()
            .all(|f| matches!(f.rule, RuleId::NoCounterpart | RuleId::PeerDisagreement | RuleId::Incomplete)),
        "{:#?}",
        early.findings
    );
    assert_eq!(early.findings.len(), 3);

    // The cache kept incrementally equals a full recomputation.
    assert_eq!(cached(&store, "2025-03-03").await, before);

    // 泸县 fixes K2 on 10 March: an audit of 3 March is unchanged, one of 12 March has no A01.
    let fix = w.counties[0]
        .sign_on("2025-03-10", vec![update(&k(1).code, ItemPatch { name: Some(k(1).name), ..Default::default() })]);
    assert!(deliver(&store, &[fix]).await[0].starts_with("applied"));
    assert_eq!(audit(&store, "2025-03-03").await, before, "a past audit never changes");
    let after = audit(&store, "2025-03-12").await;
    let mut fixed = expected.clone();
    fixed.remove(&(LUXIAN.to_string(), RuleId::UniformMismatch, k(1).code));
    assert_eq!(found(&after), fixed);
    // The refresh after one item entry recomputes only that code's partition, and agrees.
    let extra = [NodeFact { division: division(SICHUAN), name: "四川省".into() }];
    let stats = store.audit_refresh(&extra).await.unwrap();
    assert_eq!((stats.entries, stats.partitions, stats.full), (1, 1, false));
    assert_eq!(cached(&store, "2025-03-12").await, after);
}
