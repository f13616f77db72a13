fn main() -> anyhow::Result<()> {
    anyhow::bail!("sandbox: not built yet (issue 3)")
}
