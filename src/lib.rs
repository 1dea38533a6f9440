//! paydown: technical debt made visible, and the sprint capacity reserved
//! for paying it down protected.
//!
//! The library crates each own one domain — `paydown_annotations` (parsing),
//! `paydown_config` (the config file), `paydown_github` (the API client),
//! `paydown_scan` (trees and tarballs), `paydown_server` (webhooks and the
//! work queue). This crate holds what the command line adds on top:
//! rendering results ([`output`]), the commands themselves ([`cli`]) and the
//! GitHub Action's environment and outputs ([`action`]).

pub mod action;
pub mod cli;
pub mod output;
pub mod queue_cli;
