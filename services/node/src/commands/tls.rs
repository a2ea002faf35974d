//! `quanze tls renew`: a new certificate for the node's TLS key pair, picked up by the running
//! node within seconds (see `tls::renew_keeping_key` for why children's pins keep working).
//! Writes only `tls/cert.pem`; never the key, the database or the config.

use clap::Subcommand;

use crate::cli::NodeArgs;
use crate::config::{CERT_FILE, CERT_KEY_FILE};
use crate::federation::invite::fingerprint;

#[derive(Debug, Subcommand)]
pub enum TlsCommand {
    /// Issue a new certificate with the same key pair (new serial, valid from today); the
    /// running node reloads it without a restart.
    Renew {
        /// Extra host names or IPs, as given to `init --san` (localhost and 127.0.0.1 are always in).
        #[arg(long = "san")]
        extra_names: Vec<String>,
        #[command(flatten)]
        node: NodeArgs,
    },
}

pub fn run(cmd: TlsCommand) -> anyhow::Result<()> {
    let TlsCommand::Renew { extra_names, node } = cmd;
    let config = super::load_config(&node)?;
    let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string()];
    names.extend(extra_names);
    if let Some(host) = config.public_url.as_deref().and_then(host_of)
        && !names.contains(&host)
    {
        names.push(host);
    }
    let der = crate::tls::renew_keeping_key(&config.path(CERT_FILE), &config.path(CERT_KEY_FILE), &names)?;
    println!("已续期证书，密钥不变，下级无需重新固定 / certificate renewed with the same key: children keep their pin");
    println!("新证书指纹 / new fingerprint: {}", fingerprint(&der));
    println!("运行中的节点数秒内自动加载，无需重启 / a running node loads it within seconds, no restart");
    Ok(())
}

/// The host of an https URL.
fn host_of(url: &str) -> Option<String> {
    let rest = url.strip_prefix("https://")?;
    let authority = rest.split('/').next()?;
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next()?,
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    (!host.is_empty()).then(|| host.to_string())
}

#[cfg(test)]
mod tests {
    use super::host_of;

    #[test]
    fn the_public_url_names_the_host() {
        assert_eq!(host_of("https://quanze.luxian.gov.cn:7443/").as_deref(), Some("quanze.luxian.gov.cn"));
        assert_eq!(host_of("https://10.1.2.3").as_deref(), Some("10.1.2.3"));
        assert_eq!(host_of("https://[::1]:7443").as_deref(), Some("::1"));
        assert_eq!(host_of("http://x"), None);
    }
}
