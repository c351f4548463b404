"""Maps the design card's top-level folders onto the ``dyadlab`` namespace package.

``app/``, ``core/``, ``trainer/`` and ``resources/`` live at the repository root (the design card fixes
that layout) but import as ``dyadlab.app``, ``dyadlab.core`` and so on. Listing the subpackages here
(rather than by hand in pyproject.toml) keeps new modules installable without editing metadata.
"""

from setuptools import find_packages, setup

ROOTS = {"app": "dyadlab.app", "core": "dyadlab.core", "trainer": "dyadlab.trainer", "resources": "dyadlab.resources"}

packages: list[str] = []
package_dir: dict[str, str] = {}
for folder, name in ROOTS.items():
    package_dir[name] = folder
    packages.append(name)
    packages.extend(f"{name}.{sub}" for sub in find_packages(folder))

setup(packages=packages, package_dir=package_dir)
