"""Recipe hashing: a recipe changes exactly when an input changes."""

from __future__ import annotations

from stackgate.machine import images
from stackgate.machine.images import ImageSpec


def test_recipe_hash_is_stable_and_order_sensitive():
    assert images.recipe_hash(["a", "b"]) == images.recipe_hash(["a", "b"])
    assert images.recipe_hash(["a", "b"]) != images.recipe_hash(["b", "a"])
    assert images.recipe_hash(["ab"]) != images.recipe_hash(["a", "b"])


def test_base_recipe_depends_on_the_package_list(monkeypatch):
    before = images.base_recipe()
    monkeypatch.setattr(images, "BASE_PACKAGES", (*images.BASE_PACKAGES, "vim"))
    assert images.base_recipe() != before


def spec_in(tmp_path, text="FROM x\n") -> ImageSpec:
    (tmp_path / "Dockerfile").write_text(text)
    return ImageSpec("t:1", tmp_path / "Dockerfile", tmp_path, {"BASE": "parent"})


def test_image_recipe_changes_with_context_content(tmp_path):
    spec = spec_in(tmp_path)
    first = spec.recipe({"parent": "p1"})
    (tmp_path / "app.py").write_text("print(1)\n")
    assert spec.recipe({"parent": "p1"}) != first


def test_image_recipe_changes_with_its_parent_recipe(tmp_path):
    spec = spec_in(tmp_path)
    assert spec.recipe({"parent": "p1"}) != spec.recipe({"parent": "p2"})


def test_is_current_compares_the_label(fake_runner):
    run = fake_runner({("docker", "image", "inspect"): (0, "abc\n")})
    assert images.is_current("x", "abc", run)
    assert not images.is_current("x", "abd", run)
    assert not images.is_current("x", "abc", fake_runner({}))
