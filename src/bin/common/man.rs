//! Man pages of a tool written into a directory: one page per subcommand
//! (`<tool>-<sub>.1`) and the tool's own (`<tool>.1`), each path printed as it is written.
//! Shared by both tools (included with `#[path]`).

use std::path::Path;

/// Why the pages could not all be written.
pub enum ManError {
    /// The directory cannot be made (bad usage: exit 2).
    Directory(String),
    /// A page could not be rendered or written (the job failed: exit 1).
    Page(String),
}

/// Writes every page of `cmd` (named `tool`) into `dir`.
pub fn write_pages(cmd: clap::Command, tool: &str, dir: &Path) -> Result<(), ManError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| ManError::Directory(format!("cannot create {}: {e}", dir.display())))?;
    let write = |name: String, cmd: clap::Command| -> Result<(), ManError> {
        let path = dir.join(format!("{name}.1"));
        let mut buf = Vec::new();
        clap_mangen::Man::new(cmd.name(name.clone()))
            .render(&mut buf)
            .and_then(|()| std::fs::write(&path, buf))
            .map_err(|e| ManError::Page(format!("cannot write {}: {e}", path.display())))?;
        println!("{}", path.display());
        Ok(())
    };
    for sub in cmd.get_subcommands() {
        write(format!("{tool}-{}", sub.get_name()), sub.clone())?;
    }
    write(tool.to_string(), cmd)
}
