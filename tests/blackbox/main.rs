//! Black-box tests of the `quanze` binary: each test starts its own real node (`quanze init` +
//! `quanze serve` in a temporary data directory on a free loopback port) and talks to it over
//! HTTPS with a client pinned to the node's certificate, or through the `quanze` CLI.
//!
//! Modules: `accounts` (people, roles, sign-in, lock-out, API tokens, which routes are open),
//! `items` (the list API), `bad_input` (refused requests change nothing), `log`
//! (hashes, verification, tampering, rebuild), `cli` (commands against a running node),
//! `restart` (a node keeps its list and log across restarts), `federation` (four tiers of real
//! processes: replication both ways, a dead city, refusals, rollback, forks), `federation_lifecycle`
//! (key rotation, disk-loss recovery, invite misuse), `calendar` (working days, the root's
//! calendar, policies and late filings), `recon` (catalogue publications reconciled by four real
//! nodes on test-controlled clocks), `xlsx` (Excel workbooks exported, imported and refused),
//! `console_county` (the county's inbox and grants pages with a signed-in 编办 account),
//! `console_office` (the city 编办's 目录发布 and 对账看板 pages, signed in with a password),
//! `console_review` (the console's request and audit pages, signed in by cookie), `faults`
//! (fault injection: SIGKILL during ingest, a partitioned city, a parent restored from a
//! backup, a full disk, skewed clocks), `checkpoints` (cosigned checkpoints and proofs across
//! three tiers), `limits` (slow clients cut by the `[server]` timeouts, oversized bodies
//! answered 413, the node serving others meanwhile), `backup` (backup while writing, restore,
//! catch-up with the parent, restore into PostgreSQL), `upgrade` (the previous release's SQLite
//! and PostgreSQL databases opened and migrated by this binary), `tls_renewal` (a parent renews
//! its certificate; its child syncs on, no restart).

mod accounts;
mod audit;
mod backup;
mod bad_input;
mod calendar;
mod checkpoints;
mod cli;
mod console_county;
mod console_office;
mod console_review;
mod faults;
mod federation;
mod federation_lifecycle;
mod grant_sheet;
mod grants;
mod items;
mod limits;
mod log;
mod recon;
mod requests;
mod restart;
mod tls_renewal;
mod upgrade;
mod xlsx;
