"""Loading config.toml: the shipped playbook is valid, and a broken one is refused at start with
the file, the key and the fix."""
import tomllib
from pathlib import Path

import pytest

from playbook.config import DEFAULT_PLAYBOOK, PlaybookError, load, locate, parse

ROOT = Path(__file__).resolve().parent.parent


def default_data() -> dict:
    return tomllib.loads((ROOT / "config.toml").read_text(encoding="utf-8"))


def test_shipped_playbook_loads_with_all_four_profiles_and_stages():
    pb = load(ROOT / "config.toml")
    assert [p.id for p in pb.profiles] == ["expand", "win_back", "keep", "acquire"]
    assert pb.let_go is not None
    assert len(pb.success_boxes) == 5
    assert [s.id for s in pb.stages][:2] == ["discovery", "qualification"]
    assert all(s.skipped_under_days < s.standard_days < s.stuck_after_days for s in pb.stages)
    assert pb.find_stage("Négociation").id == "negotiation"
    assert pb.find_profile("Reconquérir") == "win_back"
    assert pb.find_profile("garder") == "keep"


def test_the_default_shipped_with_the_package_is_the_repository_playbook():
    assert DEFAULT_PLAYBOOK.read_text(encoding="utf-8") == (ROOT / "config.toml").read_text(encoding="utf-8")


def test_locate_prefers_flag_then_env_then_working_dir_then_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GARE_CONFIG", raising=False)
    assert locate() == DEFAULT_PLAYBOOK
    (tmp_path / "config.toml").write_text("")
    assert locate() == tmp_path / "config.toml"
    monkeypatch.setenv("GARE_CONFIG", "/elsewhere.toml")
    assert str(locate()) == "/elsewhere.toml"
    assert str(locate("/flag.toml")) == "/flag.toml"


def refused(mutate) -> PlaybookError:
    data = default_data()
    mutate(data)
    with pytest.raises(PlaybookError) as info:
        parse(data, "my-playbook.toml")
    return info.value


def test_unknown_field_in_a_rule_names_the_key_and_the_known_fields():
    err = refused(lambda d: d["profiles"]["expand"].__setitem__("when", "margn_pct > 3"))
    assert err.path == "my-playbook.toml"
    assert err.key == "profiles.expand.when"
    assert "margn_pct" in err.problem and "margin_pct" in err.problem


def test_bad_threshold_is_refused():
    err = refused(lambda d: d["tiers"].__setitem__("tier2_min_score", 90))
    assert err.key == "tiers.tier2_min_score" and "below tier1_min_score" in err.problem
    err = refused(lambda d: d["pipeline"]["stages"][0].__setitem__("standard_days", -3))
    assert err.key == "pipeline.stages.discovery.standard_days"
    err = refused(lambda d: d["pipeline"]["stages"][0].__setitem__("stuck_after_days", 2))
    assert err.key == "pipeline.stages.discovery.stuck_after_days"


def test_duplicate_ids_are_refused():
    err = refused(lambda d: d["misfit"]["traits"].append(dict(d["misfit"]["traits"][0])))
    assert err.key == "misfit.traits" and "duplicate id 'thin_margin'" in err.problem
    err = refused(lambda d: d["pipeline"]["stages"].append(dict(d["pipeline"]["stages"][0])))
    assert "duplicate id 'discovery'" in err.problem


def test_unknown_keys_profiles_and_languages_are_refused():
    assert refused(lambda d: d.__setitem__("langage", "fr")).key == "langage"
    assert refused(lambda d: d.__setitem__("language", "de")).key == "language"
    assert refused(lambda d: d["profiles"].__setitem__("order", ["keep", "acquire", "win_back", "grow"])).key == "profiles.order"
    assert refused(lambda d: d["misfit"]["traits"][0].__setitem__("severity", "fatal")).key == "misfit.traits.thin_margin.severity"
    assert refused(lambda d: d["tiers"]["factors"][1].__setitem__("field", "industry")).key == "tiers.factors.potential_revenue.field"
    assert refused(lambda d: d.__setitem__("timezone", "Mars/Olympus")).key == "timezone"


def test_custom_fields_are_usable_in_rules_once_declared():
    data = default_data()
    data["misfit"]["traits"][0]["when"] = "payment_terms_days > 60"
    with pytest.raises(PlaybookError, match="payment_terms_days"):
        parse(data)
    data["fields"]["payment_terms_days"] = "number"
    assert parse(data).traits[0].rule_text == "payment_terms_days > 60"


def test_toml_syntax_error_names_the_file(tmp_path):
    bad = tmp_path / "config.toml"
    bad.write_text('language = "fr"\n[profiles\n')
    with pytest.raises(PlaybookError) as info:
        load(bad)
    assert info.value.path == str(bad) and info.value.key == "syntax"


def test_missing_file_says_how_to_point_at_one(tmp_path):
    with pytest.raises(PlaybookError, match="GARE_CONFIG"):
        load(tmp_path / "nope.toml")


def test_teams_tenants_and_the_nudge_platform():
    data = default_data()
    data["teams"]["tenants"] = ["72F988BF-86f1-41af-91ab-2d7cd011db47"]
    data["nudges"]["platform"] = "teams"
    pb = parse(data)
    assert pb.msteams.tenants == ("72f988bf-86f1-41af-91ab-2d7cd011db47",) and pb.nudges.platform == "teams"
    assert [t.id for t in pb.teams] == ["west", "east"]  # tenants is no sales team
    data["teams"]["tenants"] = ["contoso.com"]
    with pytest.raises(PlaybookError) as refused:
        parse(data)
    assert refused.value.key == "teams.tenants[0]" and "tenant id" in refused.value.problem
    data["teams"]["tenants"] = []
    data["nudges"]["platform"] = "email"
    with pytest.raises(PlaybookError) as refused:
        parse(data)
    assert refused.value.key == "nudges.platform" and "slack, teams" in refused.value.problem
