//! The rule catalogue: `<family>/<rule>.rs` and `<rule>.md` side by side.
//!
//! Adding a rule: write its `.rs` and `.md`, and add one line below.

use crate::rule::Rule;

macro_rules! catalogue {
    ($($family:ident { $($module:ident :: $rule:ident),* $(,)? })*) => {
        $(mod $family { $(pub mod $module;)* })*

        static RULES: &[&dyn Rule] = &[$($(&$family::$module::$rule,)*)*];
    };
}

catalogue! {
    core {
        syntax_error::SyntaxError,
        unused_suppression::UnusedSuppression,
    }
    cache {
        missing_cache_mount::MissingCacheMount,
        cache_disabled_by_flag::CacheDisabledByFlag,
        cache_mount_permissions::CacheMountPermissions,
        apt_cache_mount_without_keep::AptCacheMountWithoutKeep,
        package_cache_in_layer::PackageCacheInLayer,
        cache_mount_wrong_target::CacheMountWrongTarget,
    }
    layers {
        consecutive_run::ConsecutiveRun,
        update_without_install::UpdateWithoutInstall,
        cleanup_in_later_layer::CleanupInLaterLayer,
        copy_all_before_install::CopyAllBeforeInstall,
    }
    stages {
        build_tools_in_final_stage::BuildToolsInFinalStage,
        missing_multistage_split::MissingMultistageSplit,
        heavy_base_image::HeavyBaseImage,
        unused_stage::UnusedStage,
        dev_dependencies_in_final_stage::DevDependenciesInFinalStage,
    }
    models {
        model_download_at_build::ModelDownloadAtBuild,
        model_weights_in_context::ModelWeightsInContext,
    }
    build {
        build_heap_too_large::BuildHeapTooLarge,
        base_image_toolchain_mismatch::BaseImageToolchainMismatch,
    }
    context {
        missing_dockerignore::MissingDockerignore,
        dockerignore_gaps::DockerignoreGaps,
        copy_ignored_file::CopyIgnoredFile,
        copy_missing_source::CopyMissingSource,
        large_build_context::LargeBuildContext,
    }
}

/// Every rule, in catalogue order.
pub fn rules() -> &'static [&'static dyn Rule] {
    RULES
}

pub fn find(name: &str) -> Option<&'static dyn Rule> {
    RULES.iter().copied().find(|r| r.meta().name == name)
}

/// The family of the rule named `name` (empty for a name that is no rule's).
pub fn family_of(name: &str) -> &'static str {
    find(name).map_or("", |rule| rule.meta().family)
}
