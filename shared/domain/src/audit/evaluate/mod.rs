//! The audit rules themselves: one pass over an `AuditInput` that returns every finding with
//! the first day it holds, and the units each node was checked on.
//!
//! Reads only the input and the calendar; decides nothing about storage or time ("as of" is a
//! filter on `Finding::from`). Each rule looks only at facts of its own partition (one code, one
//! node's tasks and filings, one seal), so evaluating a partition alone gives the same findings.
//!
//! A province audits about 1.5 M items, so the item rules avoid a map with an entry per item:
//! the items are looked up in a list sorted by (node, code) (the store delivers them in that
//! order; any other order is sorted first), and the maps hash with `rustc_hash` (keys are the
//! input's own strings, not attacker-chosen lookups into a long-lived table).
//!
//! The item rules (A01–A05, A10) are here; the rules about processes over time (A06–A09) are in
//! `process.rs`.

mod process;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Days, NaiveDate};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::{
    AuditInput, Difference, Evaluation, Expected, Finding, ItemFact, PublicationFact, RequirementFact, RuleId,
    node_partition, seal_partition,
};
use crate::calendar::{Calendar, CalendarError};
use crate::division::DivisionCode;
use crate::requests::filing_deadline;
use crate::tier::Tier;

fn next_day(d: NaiveDate) -> NaiveDate {
    d.checked_add_days(Days::new(1)).unwrap_or(d)
}

/// Evaluates every rule. With `as_of`, only findings that hold on that day are kept (the facts
/// must already be those of that day); without it, every finding the facts imply is returned
/// with its `from` day (what a node caches, filtered when asked).
pub fn evaluate(
    input: &AuditInput,
    calendar: &Calendar,
    as_of: Option<NaiveDate>,
) -> Result<Evaluation, CalendarError> {
    let mut ev = Eval::new(input, calendar);
    ev.item_rules()?;
    ev.grant_rules();
    ev.task_rules()?;
    ev.filing_rules()?;
    ev.seal_rules();
    let mut out = ev.out;
    if let Some(day) = as_of {
        out.findings.retain(|f| f.from <= day);
    }
    out.findings.sort_by(|a, b| (&a.node, a.rule, &a.subject).cmp(&(&b.node, b.rule, &b.subject)));
    Ok(out)
}

struct Eval<'a> {
    input: &'a AuditInput,
    calendar: &'a Calendar,
    scope: HashSet<&'a DivisionCode>,
    /// (ancestor, tier) → nodes strictly below the ancestor with that tier (all known nodes).
    below: HashMap<(&'a str, Tier), Vec<&'a DivisionCode>>,
    /// Every node that holds an item, by its number (the order it first appears in the items).
    nodes: Vec<&'a DivisionCode>,
    /// node → its number in `nodes`.
    node_ids: HashMap<&'a str, u32>,
    /// code → its items (and, below `item_rules`, its requirements).
    codes: HashMap<&'a str, CodeFacts<'a>>,
    /// Due date of each publication's reconciliation.
    due: Vec<Option<NaiveDate>>,
    out: Evaluation,
}

/// The items of one code, each with its node's number, in the input's order; and the same
/// ordered by node number when the input's order is not (the store's is: by node, then code).
#[derive(Default)]
struct CodeFacts<'a> {
    items: Vec<(u32, &'a ItemFact)>,
    by_node: Option<Vec<(u32, &'a ItemFact)>>,
    reqs: Vec<&'a RequirementFact>,
}

impl<'a> CodeFacts<'a> {
    /// The item of node number `id`; of two, the last given (as a map would keep).
    fn item(&self, id: u32) -> Option<&'a ItemFact> {
        let list = self.by_node.as_deref().unwrap_or(&self.items);
        let end = list.partition_point(|(n, _)| *n <= id);
        list[..end].last().filter(|(n, _)| *n == id).map(|(_, i)| *i)
    }
}

impl<'a> Eval<'a> {
    fn new(input: &'a AuditInput, calendar: &'a Calendar) -> Eval<'a> {
        let mut below: HashMap<(&str, Tier), Vec<&DivisionCode>> = HashMap::default();
        let known: HashMap<&str, &DivisionCode> =
            input.nodes.iter().map(|n| (n.division.as_str(), &n.division)).collect();
        for n in &input.nodes {
            let mut up = n.division.parent();
            while let Some(a) = up {
                if let Some(anc) = known.get(a.as_str()) {
                    below.entry((anc.as_str(), n.division.tier())).or_default().push(&n.division);
                }
                up = a.parent();
            }
        }
        let mut nodes: Vec<&DivisionCode> = Vec::new();
        let mut node_ids: HashMap<&str, u32> = HashMap::default();
        let mut codes: HashMap<&str, CodeFacts> = HashMap::default();
        let mut last: Option<(&str, u32)> = None;
        for i in &input.items {
            let id = match last {
                Some((n, id)) if n == i.node.as_str() => id,
                _ => {
                    let next = u32::try_from(nodes.len()).unwrap_or(u32::MAX);
                    let id = *node_ids.entry(i.node.as_str()).or_insert_with(|| {
                        nodes.push(&i.node);
                        next
                    });
                    last = Some((i.node.as_str(), id));
                    id
                }
            };
            codes.entry(i.code.as_str()).or_default().items.push((id, i));
        }
        for c in codes.values_mut() {
            if !c.items.is_sorted_by_key(|(n, _)| *n) {
                let mut by_node = c.items.clone();
                by_node.sort_by_key(|(n, _)| *n);
                c.by_node = Some(by_node);
            }
        }
        Eval {
            input,
            calendar,
            scope: input.scope.iter().collect(),
            below,
            nodes,
            node_ids,
            codes,
            due: vec![None; input.publications.len()],
            out: Evaluation::default(),
        }
    }

    /// The item `node` holds under `code`.
    fn item(&self, node: &str, code: &str) -> Option<&'a ItemFact> {
        self.codes.get(code)?.item(*self.node_ids.get(node)?)
    }

    /// The last day of publication `p`'s reconciliation window, or `None` while that day falls
    /// in a year whose arrangement is not published: the publication cannot be judged yet (a
    /// published year recomputes every partition).
    fn due_of(&mut self, p: usize) -> Result<Option<NaiveDate>, CalendarError> {
        if let Some(d) = self.due[p] {
            return Ok(Some(d));
        }
        let pb = &self.input.publications[p];
        match self.calendar.due_date(pb.published, pb.window) {
            Ok(d) => {
                self.due[p] = Some(d);
                Ok(Some(d))
            }
            Err(CalendarError::YearNotPublished(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn unit(&mut self, partition: String, node: &DivisionCode) {
        *self.out.units.checked.entry((partition, node.clone())).or_insert(0) += 1;
    }

    fn push(&mut self, f: Finding) {
        self.out.findings.push(f);
    }

    /// True when `node` is subject to publication `p`: strictly below its publisher and of one
    /// of its tiers.
    fn subject_to(node: &DivisionCode, p: &PublicationFact) -> bool {
        node.as_str() != p.evidence.origin
            && p.tiers.contains(&node.tier())
            && DivisionCode::parse(&p.evidence.origin).is_ok_and(|o| node.is_within(&o))
    }

    /// A01–A05 and A10, code by code.
    fn item_rules(&mut self) -> Result<(), CalendarError> {
        let input = self.input;
        let mut codes = std::mem::take(&mut self.codes);
        for r in &input.requirements {
            codes.entry(r.code.as_str()).or_default().reqs.push(r);
        }
        // Per node number: in scope, under any publication (only such a node can hold an item
        // "outside the catalogue"), its parent; the items it holds in force.
        let in_scope: Vec<bool> = self.nodes.iter().map(|n| self.scope.contains(n)).collect();
        let known: HashSet<&DivisionCode> = input.nodes.iter().map(|n| &n.division).collect();
        let catalogued: Vec<bool> = self
            .nodes
            .iter()
            .map(|n| known.contains(n) && input.publications.iter().any(|p| Self::subject_to(n, p)))
            .collect();
        let parents: Vec<Option<DivisionCode>> = self.nodes.iter().map(|n| n.parent()).collect();
        let mut held = vec![0u64; self.nodes.len()];
        for (id, i) in codes.values().flat_map(|c| &c.items) {
            if i.in_force() && in_scope[*id as usize] {
                held[*id as usize] += 1;
            }
        }
        let counted = self.nodes.iter().zip(held).filter(|(_, k)| *k > 0);
        self.out.units.held.extend(counted.map(|(n, k)| ((*n).clone(), k)));
        let mut deviated: HashSet<(&str, &str, u64, Option<&str>)> = HashSet::default();
        let mut deviated_codes: HashSet<(&str, &str)> = HashSet::default();
        for d in &input.deviations {
            deviated.insert((d.node.as_str(), d.publication.origin.as_str(), d.publication.seq, d.code.as_deref()));
            if let Some(c) = &d.code {
                deviated_codes.insert((d.node.as_str(), c.as_str()));
            }
        }
        // The code each node number was last found governed for (a requirement applies to it).
        let mut governed: Vec<Option<&str>> = vec![None; self.nodes.len()];
        for (&code, facts) in &codes {
            // The latest requirement on each node for this code.
            let mut applicable: HashMap<&DivisionCode, &RequirementFact> = HashMap::default();
            for r in &facts.reqs {
                let p = &input.publications[r.publication];
                for tier in r.tiers.iter().filter(|t| p.tiers.contains(t)) {
                    let Some(nodes) = self.below.get(&(p.evidence.origin.as_str(), *tier)) else { continue };
                    for n in nodes {
                        let slot = applicable.entry(n).or_insert(r);
                        let cur = &input.publications[slot.publication];
                        if later(p, cur) {
                            *slot = r;
                        }
                    }
                }
            }
            let mut by_node: Vec<(&DivisionCode, &RequirementFact)> = applicable.into_iter().collect();
            by_node.sort_by(|a, b| a.0.cmp(b.0));
            for (node, r) in by_node {
                // A node that holds no item has no number, and no item to be ungoverned.
                let id = self.node_ids.get(node.as_str()).copied();
                if let Some(id) = id {
                    governed[id as usize] = Some(code);
                }
                if !self.scope.contains(node) {
                    continue;
                }
                let p = &input.publications[r.publication];
                let item = id.and_then(|id| facts.item(id));
                let exempt =
                    deviated.contains(&(node.as_str(), p.evidence.origin.as_str(), p.evidence.seq, Some(code)))
                        || deviated.contains(&(node.as_str(), p.evidence.origin.as_str(), p.evidence.seq, None));
                let Some(due) = self.due_of(r.publication)? else { continue };
                if exempt {
                    continue;
                }
                self.requirement_finding(node, code, r, p, due, item);
            }
            // Items held with no requirement: outside the catalogue, peers, completeness.
            let mut peers: BTreeMap<(&DivisionCode, Tier), Vec<&ItemFact>> = BTreeMap::new();
            for &(id, i) in facts.items.iter().filter(|(_, i)| i.in_force()) {
                let id = id as usize;
                let ungoverned = governed[id] != Some(code);
                if ungoverned && let Some(parent) = &parents[id] {
                    peers.entry((parent, i.node.tier())).or_default().push(i);
                }
                if !in_scope[id] {
                    continue;
                }
                let local = || i.local_basis || i.grant.is_some() || deviated_codes.contains(&(i.node.as_str(), code));
                if ungoverned && catalogued[id] && !local() {
                    self.push(Finding {
                        node: i.node.clone(),
                        rule: RuleId::NoCounterpart,
                        subject: code.to_string(),
                        is_item: true,
                        from: i.since,
                        message: format!(
                            "“{}”不在上级目录中，也没有地方性法规、规章依据或备案的差异说明 / not in the catalogue, no local basis",
                            i.name
                        ),
                        differences: vec![],
                        evidence: vec![i.evidence.clone()],
                    });
                }
                if !i.gaps.is_empty() {
                    self.push(Finding {
                        node: i.node.clone(),
                        rule: RuleId::Incomplete,
                        subject: code.to_string(),
                        is_item: true,
                        from: i.since,
                        message: format!("“{}”缺少{} / required elements empty", i.name, i.gaps.labels().join("、")),
                        differences: vec![],
                        evidence: vec![i.evidence.clone()],
                    });
                }
            }
            for group in peers.values().filter(|g| g.len() > 1) {
                self.peer_findings(code, group);
            }
        }
        self.codes = codes;
        Ok(())
    }

    fn requirement_finding(
        &mut self,
        node: &DivisionCode,
        code: &str,
        r: &RequirementFact,
        p: &PublicationFact,
        due: NaiveDate,
        item: Option<&ItemFact>,
    ) {
        let after = next_day(due);
        let mut evidence = vec![p.evidence.clone()];
        let held = item.filter(|i| i.in_force());
        match (&r.expect, held) {
            (Expected::Present { name, .. }, None) => {
                if let Some(i) = item {
                    evidence.push(i.evidence.clone());
                }
                self.push(Finding {
                    node: node.clone(),
                    rule: RuleId::CatalogueMissing,
                    subject: code.to_string(),
                    is_item: true,
                    from: after,
                    message: format!(
                        "{}要求的“{name}”在{due}对标期限后仍不在清单中 / catalogue item missing after the window",
                        p.doc_no
                    ),
                    differences: vec![],
                    evidence,
                });
            }
            (Expected::Present { name, category, basis_fp, basis }, Some(i)) => {
                let mut differences = Vec::new();
                if &i.name != name {
                    differences.push(Difference {
                        element: "名称".into(),
                        expected: name.clone(),
                        actual: i.name.clone(),
                    });
                }
                if &i.category != category {
                    differences.push(Difference {
                        element: "类别".into(),
                        expected: category.label().into(),
                        actual: i.category.label().into(),
                    });
                }
                if &i.basis_fp != basis_fp {
                    differences.push(Difference {
                        element: "设定依据".into(),
                        expected: basis.clone(),
                        actual: i.basis.clone(),
                    });
                }
                if differences.is_empty() {
                    return;
                }
                evidence.push(i.evidence.clone());
                let elements: Vec<&str> = differences.iter().map(|d| d.element.as_str()).collect();
                self.push(Finding {
                    node: node.clone(),
                    rule: RuleId::UniformMismatch,
                    subject: code.to_string(),
                    is_item: true,
                    from: after.max(i.since),
                    message: format!(
                        "“{}”的{}与{}不一致 / uniform elements differ from the catalogue",
                        i.name,
                        elements.join("、"),
                        p.doc_no
                    ),
                    differences,
                    evidence,
                });
            }
            (Expected::Absent { reason }, Some(i)) => {
                evidence.push(i.evidence.clone());
                self.push(Finding {
                    node: node.clone(),
                    rule: RuleId::WithdrawnStillActive,
                    subject: code.to_string(),
                    is_item: true,
                    from: after.max(i.since),
                    message: format!(
                        "“{}”已由{}取消或下放（{reason}），{due}后本级仍在行使 / withdrawn upstream, still active",
                        i.name, p.doc_no
                    ),
                    differences: vec![],
                    evidence,
                });
            }
            (Expected::Absent { .. }, None) => {}
        }
    }

    /// A05: peers (same parent, same tier) holding `code` outside any catalogue disagree.
    fn peer_findings(&mut self, code: &str, group: &[&'a ItemFact]) {
        let form = |i: &'a ItemFact| (i.name.as_str(), i.category, i.basis_fp);
        let mut counts: BTreeMap<(&str, crate::category::Category, i64), Vec<&ItemFact>> = BTreeMap::new();
        for i in group {
            counts.entry(form(i)).or_default().push(i);
        }
        if counts.len() < 2 {
            return;
        }
        let top = counts.values().map(Vec::len).max().unwrap_or(0);
        let leaders: Vec<_> = counts.iter().filter(|(_, v)| v.len() == top).collect();
        let majority = (leaders.len() == 1).then(|| *leaders[0].0);
        let from = group.iter().map(|i| i.since).max().unwrap_or(NaiveDate::MIN);
        let sizes: Vec<String> = counts.values().map(|v| v.len().to_string()).collect();
        let members: Vec<&ItemFact> = group.iter().copied().filter(|i| self.scope.contains(&i.node)).collect();
        for i in members {
            let mine = form(i);
            if majority.as_ref() == Some(&mine) {
                continue;
            }
            let (message, differences, witnesses) = match &majority {
                Some(maj) => {
                    let (name, category, fp) = maj;
                    let rep = counts[maj][0];
                    let mut d = Vec::new();
                    if i.name != *name {
                        d.push(Difference {
                            element: "名称".into(),
                            expected: name.to_string(),
                            actual: i.name.clone(),
                        });
                    }
                    if &i.category != category {
                        d.push(Difference {
                            element: "类别".into(),
                            expected: category.label().into(),
                            actual: i.category.label().into(),
                        });
                    }
                    if &i.basis_fp != fp {
                        d.push(Difference {
                            element: "设定依据".into(),
                            expected: rep.basis.clone(),
                            actual: i.basis.clone(),
                        });
                    }
                    let n = counts[&mine].len();
                    (
                        format!(
                            "同级{}个单位中有{}个采用多数形式，本单位与之不同（与本单位相同的{}个） / differs from the peers' majority form",
                            group.len(),
                            top,
                            n
                        ),
                        d,
                        vec![rep.evidence.clone()],
                    )
                }
                None => (
                    format!(
                        "同级{}个单位对该事项有{}种不同形式（各{}个），无多数形式 / peers disagree, no majority",
                        group.len(),
                        counts.len(),
                        sizes.join("/")
                    ),
                    vec![],
                    group.iter().filter(|g| g.node != i.node).map(|g| g.evidence.clone()).collect(),
                ),
            };
            let mut evidence = vec![i.evidence.clone()];
            evidence.extend(witnesses);
            self.push(Finding {
                node: i.node.clone(),
                rule: RuleId::PeerDisagreement,
                subject: code.to_string(),
                is_item: true,
                from,
                message,
                differences,
                evidence,
            });
        }
    }
}

/// Publication `a` supersedes `b` for the same code: later entry day, then the lower (nearer)
/// publisher, then the later seq.
fn later(a: &PublicationFact, b: &PublicationFact) -> bool {
    let key = |p: &PublicationFact| {
        let tier = DivisionCode::parse(&p.evidence.origin).map(|d| d.tier()).unwrap_or(Tier::Province);
        (p.day, tier, p.evidence.seq)
    };
    key(a) > key(b)
}
