# Boots the built disk image: the right IMAGE_VERSION, /usr on dm-verity,
# the A/B layout with empty B slots, a persistent state partition.
{ pkgs, lib, ... }:

let
  t = import ./lib.nix { inherit pkgs lib; };
in
{
  name = "mamori-image";

  nodes.appliance = t.applianceImage;

  testScript =
    { nodes, ... }:
    ''
      ${t.useImage nodes.appliance}

      use_image("${t.diskImage nodes.appliance}")
      appliance.start()
      appliance.wait_for_unit("multi-user.target")

      with subtest("os-release carries the image id and version"):
          assert image_version(appliance) == "${nodes.appliance.system.image.version}"
          appliance.succeed("grep -Eq '^IMAGE_ID=\"?mamori\"?$' /etc/os-release")

      with subtest("/usr is on dm-verity and read-only"):
          info = appliance.succeed("dmsetup info --target verity usr")
          assert "ACTIVE" in info, f"unexpected verity info: {info}"
          usr = appliance.succeed("findmnt -no SOURCE /usr").strip()
          assert usr == "/dev/mapper/usr", f"/usr is on {usr}"
          store = appliance.succeed("df --output=source /nix/store | tail -n1").strip()
          assert store == "/dev/mapper/usr", f"/nix/store is on {store}"
          appliance.fail("touch /nix/store/.mamori-write-test")

      with subtest("A/B slots, ESP and state partition"):
          labels = appliance.succeed("lsblk -nro PARTLABEL").split()
          for label in ["mamori-esp", "mamori-usr_1", "mamori-verity_1", "mamori-state"]:
              assert label in labels, f"{label} missing from {labels}"
          assert labels.count("_empty") == 2, f"expected two empty B slots: {labels}"
          assert uki_files(appliance) == ["mamori_1.efi"], uki_files(appliance)
          appliance.succeed("findmnt -no FSTYPE / | grep -qx tmpfs")
          appliance.succeed("findmnt -no FSTYPE /var | grep -qx ext4")

      with subtest("updates are configured and verified against the image's key"):
          appliance.succeed("test -s /etc/systemd/import-pubring.gpg")
          appliance.succeed("grep -q '^Verify=true' /etc/sysupdate.d/20-usr.transfer")
          appliance.succeed("grep -q '^MinVersion=1' /etc/sysupdate.d/20-usr.transfer")
          appliance.fail("systemctl is-active systemd-sysupdate-reboot.timer")

      with subtest("the state partition survives a reboot"):
          appliance.succeed("mkdir -p /var/lib/mamori-test && echo kept > /var/lib/mamori-test/marker")
          appliance.reboot()
          appliance.wait_for_unit("multi-user.target")
          appliance.succeed("grep -qx kept /var/lib/mamori-test/marker")
          assert image_version(appliance) == "1"
    '';
}
