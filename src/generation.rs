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
//!   and the library logs it then, once, at DEBUG when it is beta (an alpha0 host's log
//!   stays as it was); a setter call after that is logged and does not change the
//!   generation.
//!
//! The host's data-clean path (module disabled: `init`, `init_sync`, `notify_data_clean`,
//! `delete_database`, no setter) is the same in both generations and runs as alpha0.

use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};

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

/// The generation of one module instance, shared by its parts (scanner, sync, queries):
/// [`Generation::Alpha0`] until [`claim_beta`](Self::claim_beta), fixed by
/// [`freeze`](Self::freeze).
#[derive(Debug, Default)]
pub struct GenerationCell(AtomicU8);

const BETA: u8 = 1;
const FROZEN: u8 = 2;

impl GenerationCell {
    /// The generation now (before the freeze it may still turn beta).
    pub fn get(&self) -> Generation {
        if self.0.load(Ordering::Acquire) & BETA != 0 {
            Generation::Beta
        } else {
            Generation::Alpha0
        }
    }

    /// The host called `syscollector_set_agentd_query_func`: the instance serves a beta
    /// host, unless its generation is frozen already. Returns whether it took effect.
    pub fn claim_beta(&self) -> bool {
        self.0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| {
                (v & FROZEN == 0).then_some(v | BETA)
            })
            .is_ok()
    }

    /// Fixes the generation (first `init_sync` or `start`). Returns it, and whether this
    /// call was the one that froze it (the caller logs the generation then, once).
    pub fn freeze(&self) -> (Generation, bool) {
        let before = self.0.fetch_or(FROZEN, Ordering::AcqRel);
        (self.get(), before & FROZEN == 0)
    }

    /// True once [`freeze`](Self::freeze) ran.
    pub fn is_frozen(&self) -> bool {
        self.0.load(Ordering::Acquire) & FROZEN != 0
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

    #[test]
    fn the_setter_before_the_freeze_makes_it_beta_and_after_it_changes_nothing() {
        let c = GenerationCell::default();
        assert_eq!(c.get(), Generation::Alpha0);
        assert!(c.claim_beta());
        assert_eq!(c.freeze(), (Generation::Beta, true));
        assert_eq!(c.freeze(), (Generation::Beta, false));
        let late = GenerationCell::default();
        assert_eq!(late.freeze(), (Generation::Alpha0, true));
        assert!(!late.claim_beta());
        assert_eq!(late.get(), Generation::Alpha0);
        assert!(late.is_frozen());
    }
}
