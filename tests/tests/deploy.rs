//! `deploy/`: the systemd unit is verified by `systemd-analyze` and its command line starts a
//! ready middleware; the Docker image is built and started (health check passing) where a
//! Docker daemon runs. A missing tool is reported as SKIPPED on stderr, never as a pass of
//! what it would have checked.

use std::process::{Command, Stdio};
use std::time::Duration;

use e2e::{binary, eventually, free_port, Process};

fn repo() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn unit_value(unit: &str, key: &str) -> Vec<String> {
    unit.lines()
        .filter_map(|l| l.strip_prefix(&format!("{key}=")))
        .map(str::to_string)
        .collect()
}

fn tool_works(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[tokio::test]
async fn the_systemd_unit_verifies_and_its_command_starts_a_ready_middleware() -> anyhow::Result<()>
{
    let unit = std::fs::read_to_string(repo().join("deploy/middleware.service"))?;
    let exec = unit_value(&unit, "ExecStart");
    assert_eq!(exec.len(), 1, "one ExecStart");
    let args: Vec<&str> = exec[0].split_whitespace().collect();
    assert_eq!(args[0], "/usr/local/bin/middleware");
    assert!(
        unit_value(&unit, "DynamicUser") == ["yes"],
        "runs as an unprivileged user"
    );

    let bin = binary("middleware")?;
    let dir = std::env::temp_dir().join(format!("rsz-deploy-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    if tool_works("systemd-analyze", &["--version"]) {
        // The unit as installed, pointing at the binary just built.
        let local = dir.join("middleware.service");
        std::fs::write(
            &local,
            unit.replace("/usr/local/bin/middleware", &bin.display().to_string()),
        )?;
        let out = Command::new("systemd-analyze")
            .arg("verify")
            .arg(&local)
            .output()?;
        let text = String::from_utf8_lossy(&out.stderr).to_string()
            + &String::from_utf8_lossy(&out.stdout);
        let problems: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("middleware.service"))
            .collect();
        assert!(
            out.status.success() && problems.is_empty(),
            "systemd-analyze verify:\n{text}"
        );
    } else {
        eprintln!("SKIPPED: systemd-analyze is not installed; the unit was not verified");
    }

    // Start it the way the unit does: its ExecStart with its MIDDLEWARE_CONFIG.
    let port = free_port()?;
    let config = dir.join("middleware.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nevents_listen = \"127.0.0.1:{port}\"\nadmin_listen = \"127.0.0.1:{}\"\ndatabase_url = \"sqlite://{}\"\n",
            free_port()?,
            dir.join("middleware.db").display()
        ),
    )?;
    let env = unit_value(&unit, "Environment");
    assert!(
        env.iter().any(|e| e.starts_with("MIDDLEWARE_CONFIG=")),
        "{env:?}"
    );
    let child = Command::new(&bin)
        .args(&args[1..])
        .env("MIDDLEWARE_CONFIG", &config)
        .env("MIDDLEWARE_ADMIN_PASSWORD", "deploy-test-password")
        .current_dir(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let _guard = Process(child);
    let probe = format!("http://127.0.0.1:{port}/readyz");
    eventually(
        "the middleware to be ready",
        Duration::from_secs(30),
        || async { Ok(tool_works(bin.to_str().unwrap(), &["probe", &probe]).then_some(())) },
    )
    .await?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

#[test]
fn the_docker_image_builds_and_becomes_healthy_where_docker_runs() -> anyhow::Result<()> {
    let dockerfile = std::fs::read_to_string(repo().join("deploy/Dockerfile"))?;
    assert!(
        dockerfile.matches("\nFROM ").count() + usize::from(dockerfile.starts_with("FROM ")) >= 2,
        "multi-stage"
    );
    assert!(dockerfile.contains("\nUSER 65532"), "non-root");
    assert!(dockerfile.contains("\nHEALTHCHECK "), "health check");
    if !tool_works("docker", &["info"]) {
        eprintln!("SKIPPED: no Docker daemon here; the image was not built or started");
        return Ok(());
    }
    let tag = format!("rsz-middleware-test:{}", std::process::id());
    let built = Command::new("docker")
        .args(["build", "-f", "deploy/Dockerfile", "-t", &tag, "."])
        .current_dir(repo())
        .status()?;
    assert!(built.success(), "docker build failed");
    let dir = std::env::temp_dir().join(format!("rsz-docker-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        dir.join("middleware.toml"),
        "[server]\nevents_listen = \"0.0.0.0:8180\"\ndatabase_url = \"sqlite:///var/lib/middleware/middleware.db\"\n",
    )?;
    let name = format!("rsz-test-{}", std::process::id());
    let run = Command::new("docker")
        .args([
            "run",
            "-d",
            "--name",
            &name,
            "-e",
            "MIDDLEWARE_ADMIN_PASSWORD=docker-test-password",
            "-v",
        ])
        .arg(format!("{}:/etc/middleware:ro", dir.display()))
        .arg(&tag)
        .status()?;
    assert!(run.success(), "docker run failed");
    let mut healthy = false;
    for _ in 0..60 {
        let out = Command::new("docker")
            .args(["inspect", "-f", "{{.State.Health.Status}}", &name])
            .output()?;
        if String::from_utf8_lossy(&out.stdout).trim() == "healthy" {
            healthy = true;
            break;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    let _ = Command::new("docker").args(["rm", "-f", &name]).status();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(healthy, "the container never became healthy");
    Ok(())
}
