//! `tickwork margin PORTFOLIO.json [--method regt|portfolio|futures] [--json]`: the margin
//! engine on a portfolio file (format: `docs/margin.md`).

use std::io::Write as _;

use anyhow::Context as _;
use tickwork_margin::{Method, compute, parse_portfolio, render_json_text, render_table};

use crate::cli::MarginArgs;

pub fn run(args: MarginArgs) -> anyhow::Result<()> {
    let path = args.portfolio.display().to_string();
    let text =
        std::fs::read_to_string(&args.portfolio).with_context(|| format!("{path}: cannot read"))?;
    let method: Method = args
        .method
        .parse()
        .map_err(|e| anyhow::anyhow!("--method: {e}"))?;
    let portfolio = parse_portfolio(&text).map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
    let result = compute(&portfolio, method).map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
    let mut out = std::io::stdout().lock();
    if args.json {
        // Keys in the documented order: method, initial, maintenance, reg_t_end_of_day, groups.
        writeln!(out, "{}", render_json_text(&result))?;
    } else {
        write!(out, "{}", render_table(&result))?;
    }
    Ok(())
}
