//! End-to-end tests: the real `bsu` binary, run in temporary projects, against
//! real HTTP servers on 127.0.0.1. One test binary, one module per area.

mod actions;
mod build_script;
mod cache;
mod config;
mod converge;
mod cost;
mod counts;
mod deadline;
mod eval;
mod eval_cases;
mod eval_shipped;
mod fake;
mod fleet;
mod github;
mod gitlab;
mod gitlab_api;
mod gitlab_publish;
mod history;
mod hostile;
mod hostile_reports;
mod identity;
mod init;
mod input_kinds;
mod inputs;
mod integrity;
mod keys;
mod outage;
mod payload;
#[path = "../pg/server.rs"]
mod pg;
mod precision;
mod prime;
mod protocols;
mod publish;
mod reports;
mod robust;
mod run;
mod sqlite;
mod state;
mod support;
mod terminal;
mod tools;
mod trust;
mod webhook;
mod windows;
