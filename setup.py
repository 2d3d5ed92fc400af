"""Package discovery: `firmware-interfaces/` is not a valid module name, so it is mapped."""

from setuptools import find_packages, setup

OWN = ["edge", "central", "simulators", "optimization", "whs"]
packages = find_packages(include=[f"{name}*" for name in OWN])
packages += ["firmware_interfaces"] + [
    f"firmware_interfaces.{sub}" for sub in find_packages("firmware-interfaces")
]
setup(packages=packages, package_dir={"firmware_interfaces": "firmware-interfaces"})
