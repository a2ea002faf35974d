//! The console in a real browser: headless Chromium signs in as each role and does that role's
//! main task end to end against real `quanze` processes, saving screenshots (see
//! `quanze_tests::browser`). Each file is one role.

mod accounts;
mod auditor;
mod county;
mod grants;
mod office;
mod operator;
mod reviewer;
