//! The rules about processes over time, on the same `Eval` pass as the item rules of the parent
//! module: A06 reconciliation overdue, A07 adjustment filed late, A08 seal used outside its
//! grant, A09 granted item missing from the list. Each looks only at its own partition (one
//! node's tasks and filings, one seal, one batch's codes); it must not read or decide anything
//! about an item's elements, which are the parent's rules.

use super::*;

impl<'a> Eval<'a> {
    /// A09: items of a batch not revoked, past the handover date, not in the grantee's list.
    pub(super) fn grant_rules(&mut self) {
        let input = self.input;
        for g in &input.grants {
            if !self.scope.contains(&g.grantee) {
                continue;
            }
            for (code, revoked) in &g.items {
                if revoked.is_some() {
                    continue;
                }
                let item = self.item(g.grantee.as_str(), code.as_str());
                let held = item.is_some_and(|i| i.in_force());
                if !held {
                    let mut evidence = vec![g.evidence.clone()];
                    if let Some(i) = item {
                        evidence.push(i.evidence.clone());
                    }
                    self.push(Finding {
                        node: g.grantee.clone(),
                        rule: RuleId::GrantItemMissing,
                        subject: code.clone(),
                        is_item: true,
                        from: next_day(g.handover_due),
                        message: format!(
                            "{}（{}）赋权的事项，交接期限{}已过，仍未列入承接方清单 / granted item missing after the handover date",
                            g.doc_no, g.grant_ref, g.handover_due
                        ),
                        differences: vec![],
                        evidence,
                    });
                }
            }
        }
    }

    /// A06: reconciliation tasks open past their due date, or closed after it.
    pub(super) fn task_rules(&mut self) -> Result<(), CalendarError> {
        let input = self.input;
        let closings: HashMap<(&str, usize), &crate::audit::ClosingFact> =
            input.closings.iter().map(|c| ((c.node.as_str(), c.publication), c)).collect();
        let mut scope: Vec<&DivisionCode> = self.scope.iter().copied().collect();
        scope.sort();
        for (pi, p) in input.publications.iter().enumerate() {
            for node in scope.iter().copied().filter(|n| Self::subject_to(n, p)) {
                self.unit(node_partition(node), node);
                let Some(due) = self.due_of(pi)? else { continue };
                let closing = closings.get(&(node.as_str(), pi));
                let (message, evidence) = match closing {
                    Some(c) if c.day <= due => continue,
                    Some(c) => (
                        format!(
                            "{}的对标调整应于{due}前完成，实际于{}完成 / reconciliation closed late",
                            p.doc_no, c.day
                        ),
                        vec![p.evidence.clone(), c.evidence.clone()],
                    ),
                    None => (
                        format!("{}的对标调整应于{due}前完成，至今未完成 / reconciliation overdue", p.doc_no),
                        vec![p.evidence.clone()],
                    ),
                };
                self.push(Finding {
                    node: node.clone(),
                    rule: RuleId::ReconOverdue,
                    subject: format!("{}（{}#{}）", p.doc_no, p.evidence.origin, p.evidence.seq),
                    is_item: false,
                    from: next_day(due),
                    message,
                    differences: vec![],
                    evidence,
                });
            }
        }
        Ok(())
    }

    /// A07: adjustment requests filed after the node's window.
    pub(super) fn filing_rules(&mut self) -> Result<(), CalendarError> {
        for f in &self.input.filings {
            if !self.scope.contains(&f.node) {
                continue;
            }
            self.unit(node_partition(&f.node), &f.node);
            // A deadline in a year whose arrangement is not published cannot be judged yet.
            let (due, late) = match filing_deadline(self.calendar, f.window, f.trigger_date, f.filed_on) {
                Ok(deadline) => deadline,
                Err(CalendarError::YearNotPublished(_)) => continue,
                Err(e) => return Err(e),
            };
            if late == 0 {
                continue;
            }
            self.push(Finding {
                node: f.node.clone(),
                rule: RuleId::FilingLate,
                subject: format!("调整申请 {}#{}", f.evidence.origin, f.evidence.seq),
                is_item: false,
                from: f.filed_on,
                message: format!(
                    "{}“{}”：触发于{}，应于{due}前提出，{}才提出（晚{late}个工作日） / filed late",
                    f.department, f.summary, f.trigger_date, f.filed_on
                ),
                differences: vec![],
                evidence: vec![f.evidence.clone()],
            });
        }
        Ok(())
    }

    /// A08: a seal activated after its recall, or still active when every batch of its scope
    /// has been revoked.
    pub(super) fn seal_rules(&mut self) {
        for s in &self.input.seals {
            if !self.scope.contains(&s.holder) {
                continue;
            }
            let subject = format!("{}/{}", s.grantor, s.id);
            self.unit(seal_partition(&subject), &s.holder);
            let Some((activated, act_entry)) = &s.activated else { continue };
            let finding = match &s.recalled {
                Some((recalled, rec_entry)) if activated > recalled => Some((
                    *activated,
                    format!("“{}”已于{recalled}收回，却于{activated}启用 / activated after its recall", s.name),
                    vec![act_entry.clone(), rec_entry.clone()],
                )),
                Some(_) => None,
                None if !s.scope.is_empty() && s.scope.iter().all(|(_, r)| r.is_some()) => {
                    let last =
                        s.scope.iter().filter_map(|(_, r)| r.as_ref().map(|(d, _)| *d)).max().unwrap_or(*activated);
                    let mut evidence = vec![act_entry.clone()];
                    evidence.extend(s.scope.iter().filter_map(|(_, r)| r.as_ref().map(|(_, e)| e.clone())));
                    let batches: BTreeSet<&str> = s.scope.iter().map(|(b, _)| b.as_str()).collect();
                    Some((
                        last.max(*activated),
                        format!(
                            "“{}”所依据的赋权（{}）已全部收回，专用分章仍在使用、未收回 / grant revoked, seal still active",
                            s.name,
                            batches.into_iter().collect::<Vec<_>>().join("、")
                        ),
                        evidence,
                    ))
                }
                None => None,
            };
            if let Some((from, message, evidence)) = finding {
                self.push(Finding {
                    node: s.holder.clone(),
                    rule: RuleId::SealMisuse,
                    subject,
                    is_item: false,
                    from,
                    message,
                    differences: vec![],
                    evidence,
                });
            }
        }
    }
}
