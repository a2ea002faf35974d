//! Realistic test data: items of the 泸县 (510521) and 泸州市 (510500) power lists, ops on them,
//! and `Writer`, a node's signing side of its log (fixed key, chained heads, fixed clock).

use chrono::{DateTime, Duration, TimeZone, Utc};
use quanze_domain::{Category, Citation, DivisionCode, ItemPatch, ItemStatus, Op, PowerItem, TimeLimit};
use quanze_ledger::{ChainHead, NodeKey, PublicKey, VerifiedEntry, sign_entry};
use quanze_store::{ItemFilter, ItemRow, Page};

pub const LUXIAN: &str = "510521";
pub const LUZHOU: &str = "510500";

pub fn division(code: &str) -> DivisionCode {
    DivisionCode::parse(code).unwrap()
}

/// One kind of item as provincial catalogues list it: category, name, basis, department.
struct Kind {
    category: Category,
    name: &'static str,
    law: &'static str,
    article: &'static str,
    department: &'static str,
}

const KINDS: [Kind; 10] = [
    Kind {
        category: Category::Licensing,
        name: "食品经营许可",
        law: "中华人民共和国食品安全法",
        article: "第三十五条",
        department: "市场监督管理局",
    },
    Kind {
        category: Category::Licensing,
        name: "建筑工程施工许可",
        law: "中华人民共和国建筑法",
        article: "第七条",
        department: "住房和城乡建设局",
    },
    Kind {
        category: Category::Penalty,
        name: "对生产经营不符合食品安全标准的食品的处罚",
        law: "中华人民共和国食品安全法",
        article: "第一百二十四条",
        department: "市场监督管理局",
    },
    Kind {
        category: Category::Coercion,
        name: "查封、扣押不符合食品安全标准的食品",
        law: "中华人民共和国食品安全法",
        article: "第一百一十条",
        department: "市场监督管理局",
    },
    Kind {
        category: Category::Licensing,
        name: "取水许可",
        law: "中华人民共和国水法",
        article: "第四十八条",
        department: "水务局",
    },
    Kind {
        category: Category::Penalty,
        name: "对未取得施工许可证擅自施工的处罚",
        law: "中华人民共和国建筑法",
        article: "第六十四条",
        department: "住房和城乡建设局",
    },
    Kind {
        category: Category::Inspection,
        name: "对食品生产经营活动的监督检查",
        law: "中华人民共和国食品安全法",
        article: "第一百一十条",
        department: "市场监督管理局",
    },
    Kind {
        category: Category::Confirmation,
        name: "不动产登记",
        law: "不动产登记暂行条例",
        article: "第七条",
        department: "自然资源和规划局",
    },
    Kind {
        category: Category::Levy,
        name: "水资源费征收",
        law: "中华人民共和国水法",
        article: "第四十八条",
        department: "水务局",
    },
    Kind {
        category: Category::Reward,
        name: "对食品安全工作中做出突出贡献的单位和个人给予表彰奖励",
        law: "中华人民共和国食品安全法",
        article: "第十三条",
        department: "市场监督管理局",
    },
];

/// Item kind `kind` (0–9) with main item number `main`, implemented in `town` (泸县, 泸州市).
pub fn catalogue_item(kind: usize, main: u32, town: &str) -> PowerItem {
    let k = &KINDS[kind % KINDS.len()];
    PowerItem {
        code: format!("{}{main:05}000", k.category.letters()),
        name: k.name.into(),
        category: k.category,
        basis: vec![Citation { law: k.law.into(), article: k.article.into() }],
        implementing_body: format!("{town}{}", k.department),
        implementing_body_code: None,
        responsibilities: vec!["受理责任：公示依法应当提交的材料，一次性告知补正材料".into()],
        accountability: vec!["对符合法定条件的申请不予受理的".into()],
        accountability_basis: vec![Citation {
            law: "中华人民共和国公职人员政务处分法".into(),
            article: "第三十九条".into(),
        }],
        supervision: vec![],
        remedies: vec!["行政复议".into(), "行政诉讼".into()],
        time_limit: TimeLimit { legal_days: Some(20), promised_days: Some(10) },
        flow: vec![],
        risk_points: vec![],
        status: ItemStatus::Active,
        status_reason: String::new(),
    }
}

/// 食品经营许可 XK00035000 — 《中华人民共和国食品安全法》第三十五条 — 泸县市场监督管理局.
pub fn food_licence() -> PowerItem {
    catalogue_item(0, 35, "泸县")
}
/// 建筑工程施工许可 XK00012000 — 《中华人民共和国建筑法》第七条 — 泸县住房和城乡建设局.
pub fn construction_permit() -> PowerItem {
    catalogue_item(1, 12, "泸县")
}
/// 取水许可 XK00088000 — 《中华人民共和国水法》第四十八条 — 泸县水务局.
pub fn water_permit() -> PowerItem {
    catalogue_item(4, 88, "泸县")
}
/// CF00101000 — 《中华人民共和国食品安全法》第一百二十四条 — 泸县市场监督管理局.
pub fn food_penalty() -> PowerItem {
    catalogue_item(2, 101, "泸县")
}
/// CF00210000 — 《中华人民共和国建筑法》第六十四条 — 泸县住房和城乡建设局.
pub fn construction_penalty() -> PowerItem {
    catalogue_item(5, 210, "泸县")
}
/// QZ00003000 — 《中华人民共和国食品安全法》第一百一十条 — 泸县市场监督管理局.
pub fn food_seizure() -> PowerItem {
    catalogue_item(3, 3, "泸县")
}

pub fn add(item: PowerItem) -> Op {
    Op::add(item)
}

pub fn update(code: &str, patch: ItemPatch) -> Op {
    Op::update(code, patch)
}

pub fn cancel(code: &str, reason: &str) -> Op {
    Op::cancel(code, reason)
}

/// A patch moving an item to another department.
pub fn move_to(body: &str) -> ItemPatch {
    ItemPatch { implementing_body: Some(body.into()), ..Default::default() }
}

/// A filter listing up to 100 items.
pub fn all() -> ItemFilter {
    ItemFilter { limit: 100, ..Default::default() }
}

pub fn codes(page: &Page<ItemRow>) -> Vec<&str> {
    page.items.iter().map(|r| r.item.code.as_str()).collect()
}

/// The signing side of one node's log: a fixed key, the head of what it signed, a fixed clock.
#[derive(Debug)]
pub struct Writer {
    pub origin: DivisionCode,
    key: NodeKey,
    pub head: Option<ChainHead>,
}

impl Writer {
    pub fn new(origin: &str, seed: u8) -> Writer {
        Writer { origin: division(origin), key: NodeKey::from_seed(&[seed; 32]), head: None }
    }

    pub fn public(&self) -> PublicKey {
        self.key.public()
    }

    /// When entry `seq` is written: one minute apart from 2025-03-01 09:00 (UTC+8).
    pub fn at(seq: u64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 1, 1, 0, 0).unwrap() + Duration::minutes(seq as i64)
    }

    /// The next entry, without moving the head (for entries the store should refuse).
    pub fn next(&self, ops: Vec<Op>) -> VerifiedEntry {
        let seq = self.head.map_or(1, |h| h.seq + 1);
        sign_entry(&self.key, &self.origin, self.head.as_ref(), Self::at(seq), ops).unwrap()
    }

    /// The next entry, written on `day` (09:00 China time, one minute per seq later); the head
    /// moves on to it.
    pub fn sign_on(&mut self, day: &str, ops: Vec<Op>) -> VerifiedEntry {
        let seq = self.head.map_or(1, |h| h.seq + 1);
        let d: chrono::NaiveDate = day.parse().unwrap();
        let at = Utc.from_utc_datetime(&d.and_hms_opt(1, 0, 0).unwrap()) + Duration::minutes(seq as i64);
        let entry = sign_entry(&self.key, &self.origin, self.head.as_ref(), at, ops).unwrap();
        self.head = Some(entry.head());
        entry
    }

    /// The next entry; the head moves on to it.
    pub fn sign(&mut self, ops: Vec<Op>) -> VerifiedEntry {
        let entry = self.next(ops);
        self.head = Some(entry.head());
        entry
    }
}

/// `rebuild`'s key lookup for these writers.
pub fn keys_of(writers: &[&Writer]) -> impl Fn(&DivisionCode, u64) -> Option<PublicKey> + Sync + use<> {
    let keys: Vec<(DivisionCode, PublicKey)> = writers.iter().map(|w| (w.origin.clone(), w.public())).collect();
    move |origin, _seq| keys.iter().find(|(o, _)| o == origin).map(|(_, k)| *k)
}

/// What one writer's list holds, to generate ops that are valid by construction.
#[derive(Debug, Default)]
struct Model {
    next_main: u32,
    active: Vec<String>,
    step: usize,
}

impl Model {
    fn new_item(&mut self, town: &str) -> PowerItem {
        self.next_main += 1;
        let item = catalogue_item(self.next_main as usize, 100 + self.next_main, town);
        self.active.push(item.code.clone());
        item
    }

    fn pick(&self, n: usize) -> String {
        self.active[n % self.active.len()].clone()
    }

    fn patch(&self, town: &str) -> ItemPatch {
        match self.step % 3 {
            0 => ItemPatch {
                time_limit: Some(TimeLimit { legal_days: Some(20), promised_days: Some(1 + (self.step % 10) as u32) }),
                ..Default::default()
            },
            1 => move_to(&format!("{town}综合行政执法局")),
            _ => ItemPatch {
                remedies: Some(vec!["行政复议".into(), format!("行政诉讼（第{}次调整）", self.step)]),
                ..Default::default()
            },
        }
    }

    /// The next batch: adds of three, updates, a cancel, add-then-update, update-and-cancel.
    fn ops(&mut self, town: &str) -> Vec<Op> {
        self.step += 1;
        let step = self.step;
        match step % 5 {
            1 => (0..3).map(|_| add(self.new_item(town))).collect(),
            2 => {
                let (a, b) = (self.pick(step), self.pick(step + 1));
                vec![update(&a, self.patch(town)), update(&b, move_to(&format!("{town}行政审批局")))]
            }
            3 => {
                let code = self.active.remove(step % self.active.len());
                vec![cancel(&code, "依据《国务院关于取消和下放一批行政许可事项的决定》取消")]
            }
            4 => {
                let item = self.new_item(town);
                let code = item.code.clone();
                vec![add(item), update(&code, self.patch(town))]
            }
            _ => {
                let kept = self.pick(step);
                let gone = self.active.remove((step + 1) % self.active.len());
                let ops = vec![update(&kept, self.patch(town)), cancel(&gone, "职责划转至综合行政执法部门")];
                if kept == gone { vec![ops[1].clone()] } else { ops }
            }
        }
    }
}

/// `n` entries of mixed ops, two of every three by 泸县 (`a`), the rest by 泸州市 (`b`).
pub fn mixed_history(a: &mut Writer, b: &mut Writer, n: usize) -> Vec<VerifiedEntry> {
    let (mut ma, mut mb) = (Model::default(), Model::default());
    (0..n).map(|i| if i % 3 == 2 { b.sign(mb.ops("泸州市")) } else { a.sign(ma.ops("泸县")) }).collect()
}

// ---- Federation: four tiers of nodes, each signing its own log ----

/// 四川省, the root of trust of the federation tests.
pub const SICHUAN: &str = "510000";
/// A township of 泸县.
pub const FUJI: &str = "510521100";

impl Writer {
    /// This writer's enrolment under its current key, valid from `valid_from`.
    pub fn enrolment(&self, name: &str, valid_from: u64) -> quanze_domain::Enrolment {
        quanze_domain::Enrolment {
            division: self.origin.clone(),
            tier: self.origin.tier(),
            name: name.into(),
            key: self.public().to_hex(),
            valid_from,
        }
    }

    /// Signs from now on with the key of `seed` (key rotation or re-enrolment); the head stays.
    pub fn use_key(&mut self, seed: u8) {
        self.key = NodeKey::from_seed(&[seed; 32]);
    }

    /// The seq of the last entry signed (0 before the first).
    pub fn seq(&self) -> u64 {
        self.head.map_or(0, |h| h.seq)
    }
}

/// The public key of the test seed `seed`.
pub fn public_of(seed: u8) -> PublicKey {
    NodeKey::from_seed(&[seed; 32]).public()
}

/// `Op::Enroll` of `child` under its current key, valid from seq 1.
pub fn enrol(child: &Writer, name: &str) -> Op {
    Op::Enroll { enrolment: child.enrolment(name, 1) }
}

/// Entries as a peer sends them: bytes and signature, unverified.
pub fn unverified(entries: &[VerifiedEntry]) -> Vec<quanze_ledger::UnverifiedEntry> {
    entries.iter().map(|e| quanze_ledger::UnverifiedEntry::new(e.bytes().to_vec(), *e.sig())).collect()
}

/// A province (the trust root), one of its cities, one of that city's counties and one of that
/// county's townships, each with a key of its own.
#[derive(Debug)]
pub struct Federation {
    pub province: Writer,
    pub city: Writer,
    pub county: Writer,
    pub township: Writer,
}

impl Default for Federation {
    fn default() -> Self {
        Self::new()
    }
}

impl Federation {
    pub fn new() -> Federation {
        Federation {
            province: Writer::new(SICHUAN, 21),
            city: Writer::new(LUZHOU, 22),
            county: Writer::new(LUXIAN, 23),
            township: Writer::new(FUJI, 24),
        }
    }

    /// The names the enrolments give.
    pub const NAMES: [&'static str; 4] = ["四川省", "泸州市", "泸县", "福集镇"];

    pub fn writers(&self) -> [&Writer; 4] {
        [&self.province, &self.city, &self.county, &self.township]
    }

    /// Each tier's first entry, in delivery order: the province enrols the city, the city the
    /// county, the county the township — each adding one item to its own list too — and the
    /// township adds one item.
    pub fn chain(&mut self) -> Vec<VerifiedEntry> {
        let [p, c, co, t] = Self::NAMES;
        let province = vec![enrol(&self.city, c), add(catalogue_item(7, 1, p))];
        let city = vec![enrol(&self.county, co), add(catalogue_item(0, 35, c))];
        let county = vec![enrol(&self.township, t), add(food_licence())];
        vec![
            self.province.sign(province),
            self.city.sign(city),
            self.county.sign(county),
            self.township.sign(vec![add(catalogue_item(6, 7, t))]),
        ]
    }
}
