"""The `gare` command as a person runs it: a real process, real files, a real database."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def gare(*args, db_url=None, input=None, env_extra=None, cwd=None):
    env = {k: v for k, v in os.environ.items() if k not in ("GARE_CONFIG", "DATABASE_URL", "GARE_LANG")}
    if db_url:
        env["DATABASE_URL"] = db_url
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, input=input,
                          env=env, cwd=cwd or ROOT, timeout=120)


@pytest.fixture
def demo_db(db_url):
    result = gare("demo", db_url=db_url)
    assert result.returncode == 0, result.stderr
    return db_url


def test_demo_then_ask_json_fit_and_deal(demo_db):
    listed = json.loads(gare("ask", "--json", "accounts", db_url=demo_db).stdout)
    accounts = listed["accounts"]
    assert listed["count"] >= 60 and len(accounts) == 20 and listed["pages"] == -(-listed["count"] // 20)
    name = accounts[0]["account"]
    fit = json.loads(gare("ask", "--json", f"fit {name}", db_url=demo_db).stdout)
    assert fit["account"] == name and fit["verdict"] in ("fit", "misfit", "unclear")
    assert set(fit["success_boxes"]) == {"total", "filled", "empty"}
    frozen = json.loads(gare("ask", "--json", "deals frozen", db_url=demo_db).stdout)
    assert frozen["count"] > 0
    deal = json.loads(gare("ask", "--json", f"deal {frozen['deals'][0]['deal']}", db_url=demo_db).stdout)
    assert deal["state"] == "stuck" and deal["indicator"] == pytest.approx(deal["days_at_stage"] - deal["standard_days"], abs=0.11)


def test_demo_twice_duplicates_nothing(demo_db):
    before = json.loads(gare("ask", "--json", "tiers", db_url=demo_db).stdout)["total"]
    assert gare("demo", db_url=demo_db).returncode == 0
    assert json.loads(gare("ask", "--json", "tiers", db_url=demo_db).stdout)["total"] == before


def test_console_reads_piped_commands_one_per_line(demo_db):
    result = gare("--lang", "en", "console", db_url=demo_db, input="help\ntiers\nfit nobody-by-that-name\n")
    assert result.returncode == 0
    assert "Commands" in result.stdout and "Tier 1" in result.stdout
    assert "I don't know an account called" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_console_speaks_french(demo_db):
    result = gare("--lang", "fr", "console", db_url=demo_db, input="aide\nniveaux\n")
    assert "Niv. 1" in result.stdout and "Commandes" in result.stdout


def test_ask_with_an_error_exits_non_zero_politely(db_url):
    result = gare("--lang", "en", "ask", "deal", db_url=db_url)
    assert result.returncode == 1 and "Example" in result.stderr and "Traceback" not in result.stderr


def test_broken_config_is_refused_naming_file_key_and_fix(tmp_path, db_url):
    bad = tmp_path / "config.toml"
    text = (ROOT / "config.toml").read_text(encoding="utf-8").replace('when = "margin_pct < 10"', 'when = "margn_pct < 10"')
    bad.write_text(text, encoding="utf-8")
    result = gare("--config", str(bad), "--lang", "en", "ask", "tiers", db_url=db_url)
    assert result.returncode == 2
    assert str(bad) in result.stderr and "misfit.traits.thin_margin.when" in result.stderr
    assert "margn_pct" in result.stderr and "Traceback" not in result.stderr


def test_playbook_found_in_working_directory_then_default(tmp_path, db_url):
    info = gare("info", db_url=db_url, cwd=tmp_path)
    assert info.returncode == 0 and "default_config.toml" in info.stdout
    (tmp_path / "config.toml").write_text((ROOT / "config.toml").read_text(encoding="utf-8").replace(
        'language = "fr"', 'language = "en"'), encoding="utf-8")
    info = gare("info", db_url=db_url, cwd=tmp_path)
    assert str(tmp_path / "config.toml") in info.stdout


def test_unreachable_database_is_explained(tmp_path):
    result = gare("--lang", "en", "ask", "tiers", db_url="postgresql://nobody@127.0.0.1:1/none")
    assert result.returncode == 1 and "cannot be reached" in result.stderr and "Traceback" not in result.stderr


def test_help_prints_the_default_database_path(tmp_path):
    result = gare("--help", env_extra={"GARE_HOME": str(tmp_path)})
    # argparse wraps long lines: compare without the wrapping.
    assert str(tmp_path / "gare.db") in result.stdout.replace("\n", "").replace(" ", "")


def test_import_bad_csv_changes_nothing_and_lists_every_bad_row(tmp_path, db_url):
    good = tmp_path / "accounts.csv"
    good.write_text("Account Name,Type,Annual Revenue,Employees\nAlpha SAS,Customer - Direct,\"1,200,000\",40\n",
                    encoding="utf-8")
    assert gare("import", "accounts", str(good), db_url=db_url).returncode == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("Account Name,Type,Annual Revenue,Employees\n"
                   "Alpha SAS,Customer - Direct,\"2,000,000\",41\n"
                   ",Prospect,10,5\n"
                   "Beta,Alien,lots,12\n", encoding="utf-8")
    result = gare("--lang", "en", "import", "accounts", str(bad), db_url=db_url)
    assert result.returncode == 1
    out = result.stderr
    assert "Nothing was written" in out
    assert "line 3" in out and "line 4, column “Type”" in out and "line 4, column “Annual Revenue”" in out
    alpha = json.loads(gare("ask", "--json", "account Alpha SAS", db_url=db_url).stdout)
    assert alpha["fields"]["annual_revenue"] == 1_200_000 and alpha["fields"]["employees"] == 40


def test_import_dry_run_then_real_then_again_is_unchanged(tmp_path, db_url):
    f = tmp_path / "a.csv"
    f.write_text("nom;statut;chiffre d'affaires;effectif\nBoulangerie Dupré;client;1 500 000;12\n", encoding="utf-8-sig")
    dry = gare("--lang", "en", "import", "accounts", str(f), "--dry-run", db_url=db_url)
    assert dry.returncode == 0 and "1 would be created" in dry.stdout
    assert json.loads(gare("ask", "--json", "accounts", db_url=db_url).stdout)["count"] == 0
    created = gare("--lang", "en", "import", "accounts", str(f), db_url=db_url).stdout
    # The import assesses what it wrote before it ends: nobody's first list pays for it.
    assert "1 created" in created and "1 account assessed again with the playbook." in created
    again = gare("--lang", "en", "import", "accounts", str(f), db_url=db_url).stdout
    assert "1 unchanged" in again and "assessed again" not in again
    out = tmp_path / "out.csv"
    assert gare("export", "accounts", str(out), db_url=db_url).returncode == 0
    assert "Boulangerie Dupré,,customer" in out.read_text(encoding="utf-8")


def test_import_people_then_hubspot_deals_with_created_accounts(tmp_path, db_url):
    fixtures = ROOT / "tests" / "fixtures" / "hubspot"
    people = gare("--lang", "en", "import", "people", str(fixtures / "owners.csv"), db_url=db_url)
    assert people.returncode == 0 and "3 created" in people.stdout
    refused = gare("--lang", "en", "import", "accounts", str(fixtures / "companies.csv"), "--create-accounts",
                   db_url=db_url)
    assert refused.returncode == 1 and "--create-accounts applies to deals files only" in refused.stderr
    assert gare("import", "accounts", str(fixtures / "companies.csv"), db_url=db_url).returncode == 0
    deals = gare("--lang", "en", "import", "deals", str(fixtures / "deals.csv"), db_url=db_url)
    assert deals.returncode == 1 and "run again with --create-accounts" in deals.stderr
    deals = gare("--lang", "en", "import", "deals", str(fixtures / "deals.csv"), "--create-accounts", db_url=db_url)
    assert deals.returncode == 0, deals.stderr
    assert "6 created" in deals.stdout and "“HubSpot company 987654321”" in deals.stdout
    ambiguous = tmp_path / "dates.csv"
    ambiguous.write_text("name,stage,close_date\nA,proposal,03/04/2026\n", encoding="utf-8")
    asked = gare("--lang", "en", "import", "deals", str(ambiguous), db_url=db_url)
    assert asked.returncode == 1 and "--date-order mdy" in asked.stderr
    assert gare("import", "deals", str(ambiguous), "--date-order", "dmy", db_url=db_url).returncode == 0
    missing = gare("--lang", "en", "import", "deals", str(tmp_path / "nope.csv"), db_url=db_url)
    assert missing.returncode == 1 and "File not found" in missing.stderr


def test_digest_dry_run_shows_every_nudge_and_digest_and_posts_nothing(demo_db):
    result = gare("--lang", "en", "digest", "--now", "--dry-run", db_url=demo_db)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    sections = {}
    for chunk in out.split("───── ")[1:]:
        title, _, body = chunk.partition(" ─────")
        sections[title] = body
    assert {"Digest for claire", "Digest for hugo"} <= set(sections)
    frozen = json.loads(gare("ask", "--json", "deals frozen", db_url=demo_db).stdout)["deals"]
    for deal in frozen:
        assert deal["deal"] in sections[f"Nudge for {deal['owner']}"], deal["deal"]
    assert "Nothing was posted" in out
    # Nothing was claimed either: the same dry run shows the same messages again.
    again = gare("--lang", "en", "digest", "--now", "--dry-run", db_url=demo_db)
    assert again.stdout.count("─────") == out.count("─────")


def test_digest_without_a_platform_says_how_to_configure_one(demo_db):
    result = gare("--lang", "en", "digest", "--now", db_url=demo_db, env_extra={"SLACK_BOT_TOKEN": ""})
    assert result.returncode == 1 and "SLACK_BOT_TOKEN" in result.stderr and "--dry-run" in result.stderr
