//! Which Wazuh 5.0 host loaded the library, and so which behaviour it gets.
//!
//! Two generations of wazuh-modulesd drive `libsyscollector.so` through the same exports:
//!
//! * [`Generation::Alpha0`]: the host of tag v5.0.0-alpha0, our contract (SPEC). Its
//!   behaviour is kept byte for byte: tables, events, wire messages, logs.
//! * [`Generation::Beta`]: the hosts of tags v5.0.0-beta1 … v5.0.0-beta4 and of branch
//!   `5.0.0-tcp` (rc1, same C header and wire schema as beta4). They add document limits,
//!   the first-scan/first-sync queries, beta4's document shapes and the wire's DataBatch,
//!   Processing status and cluster fields.
//!
//! ## The rule
//! The library cannot ask the host which one it is, so it watches what the host does. Every
//! beta host resolves `syscollector_set_agentd_query_func` and, when it is there, calls it
//! right after `syscollector_init` and before `syscollector_init_sync` and
//! `syscollector_start` (`wm_sys_main` in `src/wazuh_modules/src/wm_syscollector.c`, beta1
//! onwards); an alpha0 host has no such symbol in its header and never calls it. So:
//!
//! * the generation of a module instance is [`Generation::Alpha0`] from `syscollector_init`;
//! * a call to `syscollector_set_agentd_query_func` while the instance is initialized and not
//!   yet frozen makes it [`Generation::Beta`];
//! * the first `syscollector_init_sync` or `syscollector_start` of the instance freezes it,
//!   and the library logs it once, at DEBUG, then; a setter call after that is logged and
//!   does not change the generation.
//!
//! The host's data-clean path (module disabled: `init`, `init_sync`, `notify_data_clean`,
//! `delete_database`, no setter) is the same in both generations and runs as alpha0.

use std::fmt;

/// The host generation a module instance serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Generation {
    /// wazuh-modulesd of tag v5.0.0-alpha0 (the contract).
    #[default]
    Alpha0,
    /// wazuh-modulesd of tags v5.0.0-beta1 … beta4 and branch 5.0.0-tcp (rc1).
    Beta,
}

impl Generation {
    /// True for the beta1 … rc1 hosts.
    pub fn is_beta(self) -> bool {
        self == Generation::Beta
    }

    /// Short name, as logged.
    pub fn name(self) -> &'static str {
        match self {
            Generation::Alpha0 => "alpha0",
            Generation::Beta => "beta",
        }
    }
}

impl fmt::Display for Generation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_instance_is_alpha0_until_the_host_shows_otherwise() {
        assert_eq!(Generation::default(), Generation::Alpha0);
        assert!(!Generation::Alpha0.is_beta());
        assert!(Generation::Beta.is_beta());
        assert_eq!(Generation::Beta.to_string(), "beta");
    }
}
