//! `tickwork secret set|delete|check NAME`: secrets go to the OS keyring only.

use std::io::BufRead as _;

use anyhow::{Context as _, bail};
use tickwork_core::secrets::SecretName;

use crate::cli::SecretCommand;
use crate::context::Context;

pub fn run(ctx: &Context, command: SecretCommand) -> anyhow::Result<()> {
    match command {
        SecretCommand::Set { name } => {
            let name: SecretName = name.parse()?;
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("cannot read the secret from standard input")?;
            let secret = line.trim_end_matches(['\n', '\r']);
            if secret.is_empty() {
                bail!(
                    "{}: empty secret on standard input; nothing stored",
                    name.as_str()
                );
            }
            ctx.secrets.set(name, secret)?;
            println!("{} stored in the OS keyring", name.as_str());
        }
        SecretCommand::Delete { name } => {
            let name: SecretName = name.parse()?;
            if ctx.secrets.delete(name)? {
                println!("{} removed from the OS keyring", name.as_str());
            } else {
                println!("{} was not stored", name.as_str());
            }
        }
        SecretCommand::Check { name } => {
            let name: SecretName = name.parse()?;
            match ctx.secrets.get(name)? {
                Some(_) => println!("{} is stored", name.as_str()),
                None => bail!("{} is not stored", name.as_str()),
            }
        }
    }
    Ok(())
}
