//! One module per `warroom` subcommand.
pub mod bench;
pub mod bench_guard;
pub mod bench_ingest;
pub mod bench_replay;
pub mod bench_sim;
pub mod collect;
pub mod drill;
pub mod hash_password;
pub mod patrol;
pub mod replay;
pub mod room_config;
pub mod serve;
pub mod serving;
pub mod sim;
pub mod up;
