//! Command-line arguments owned by the PowerShell module (`gwb inspect`).

use std::path::PathBuf;

#[derive(Debug, Clone, clap::Args)]
pub struct InspectArgs {
    /// Exported files or folders to recognise: ConvertTo-Json, Export-Csv, Export-Clixml,
    /// Format-List / Format-Table text, Get-ADSyncServerConfiguration and EntraExporter folders.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Output format: a summary table and each file's objects for people, or one JSON record
    /// per file ({file, encoding, format, recognizedAs, objects, typeNames, evidence, dataQuality}).
    #[arg(long, value_enum, default_value = "table")]
    pub format: InspectFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InspectFormat {
    Table,
    Json,
}
