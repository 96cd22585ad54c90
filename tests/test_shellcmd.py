"""Values reaching a remote shell are validated and quoted; hostile ones never run."""

from __future__ import annotations

import subprocess

import pytest

from redfix_tui.shellcmd import (
    UnsafeValue,
    fill_path,
    placeholders,
    render,
    validate_recipe,
    validate_tag,
)


@pytest.mark.parametrize("name", ["discourse", "mattermost-lts", "bluesky-pds", "a.b_c-1"])
def test_valid_recipes(name: str) -> None:
    assert validate_recipe(name) == name


@pytest.mark.parametrize(
    "name", ["", "x; touch /tmp/pwned", "$(id)", "-rf", "Discourse", "a b", "a\nb", "../etc"]
)
def test_invalid_recipes(name: str) -> None:
    with pytest.raises(UnsafeValue):
        validate_recipe(name)


@pytest.mark.parametrize("tag", ["0.8.1+3.5.0", "2.1.9+10.11.15", "1.0.0+v1.6.870-0"])
def test_valid_tags(tag: str) -> None:
    assert validate_tag(tag) == tag


@pytest.mark.parametrize("tag", ["$(touch /tmp/pwned)", "1.0;id", "`id`", "-x", ""])
def test_invalid_tags(tag: str) -> None:
    with pytest.raises(UnsafeValue):
        validate_tag(tag)


def test_render_quotes_values_and_leaves_other_braces() -> None:
    command = render(
        "docker stack ls --format '{{.Name}}' && ls {harness}/tests", harness="/etc/cc ci"
    )
    assert command == "docker stack ls --format '{{.Name}}' && ls '/etc/cc ci'/tests"


def test_render_refuses_hostile_values_before_any_shell(tmp_path) -> None:
    with pytest.raises(UnsafeValue):
        render("echo {recipe}", recipe="x; touch /tmp/pwned")
    with pytest.raises(UnsafeValue):
        render("echo {tag}", tag="$(touch /tmp/pwned)")


def test_quoted_path_is_one_word_in_a_real_shell(tmp_path) -> None:
    target = tmp_path / "a b; touch pwned $(id)"
    command = render("printf '%s\\n' {path}", path=str(target))
    out = subprocess.run(["sh", "-c", command], capture_output=True, text=True, cwd=tmp_path)
    assert out.stdout == f"{target}\n"
    assert not (tmp_path / "pwned").exists()


def test_fill_path_validates() -> None:
    assert fill_path("/tmp/redfix-{recipe}.log", recipe="gitea") == "/tmp/redfix-gitea.log"
    with pytest.raises(UnsafeValue):
        fill_path("/tmp/redfix-{recipe}.log", recipe="../../etc/passwd")


def test_placeholders_lists_only_known_names() -> None:
    assert placeholders("cd {harness} && x {recipe} {tag} '{{.Name}}' {print} ${HOME}") == {
        "harness",
        "recipe",
        "tag",
    }
