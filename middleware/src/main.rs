fn main() -> anyhow::Result<()> {
    anyhow::bail!("middleware: not built yet (issue 4)")
}
