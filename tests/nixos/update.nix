# A server publishes version 2; systemd-sysupdate fetches and verifies it into
# the B slots; nothing reboots until the power-cycle, after which version 2
# runs and is blessed (its boot counter removed). A lower version is refused.
{ pkgs, lib, ... }:

let
  t = import ./lib.nix { inherit pkgs lib; };
in
{
  name = "mamori-update";

  nodes = {
    server = t.updateServer;
    appliance = t.applianceImage;
    # Never started: only built, to publish its update files.
    appliance_v2 = {
      imports = [ t.applianceImage ];
      system.image.version = lib.mkForce "2";
    };
  };

  testScript =
    { nodes, ... }:
    let
      v1 = t.sign nodes.appliance.system.build.mamoriUpdate;
      v2 = t.sign nodes.appliance_v2.system.build.mamoriUpdate;
      sysupdate = t.sysupdate nodes.appliance;
      blessBoot = "${nodes.appliance.systemd.package}/lib/systemd/systemd-bless-boot";
    in
    ''
      ${t.useImage nodes.appliance}

      def publish(update):
          server.succeed(f"ln -sfn {update} /srv/updates/images")

      server.start()
      server.wait_for_unit("nginx.service")
      publish("${v2}")

      use_image("${t.diskImage nodes.appliance}")
      appliance.start()
      appliance.wait_for_unit("multi-user.target")
      assert image_version(appliance) == "1"

      with subtest("a tampered SHA256SUMS is rejected and nothing is written"):
          appliance.wait_until_succeeds(
              "curl -sf http://${t.net.server}/images/SHA256SUMS", timeout=120
          )
          server.succeed(
              "mkdir -p /srv/tampered && cp ${v2}/* /srv/tampered/ "
              + "&& chmod u+w /srv/tampered/SHA256SUMS "
              + "&& echo 0000 >> /srv/tampered/SHA256SUMS "
              + "&& ln -sfn /srv/tampered /srv/updates/images"
          )
          appliance.fail("${sysupdate} update")
          assert appliance.succeed("lsblk -nro PARTLABEL").split().count("_empty") == 2
          assert uki_files(appliance) == ["mamori_1.efi"], uki_files(appliance)
          publish("${v2}")

      with subtest("sysupdate writes version 2 to the B slots and a counted UKI"):
          appliance.succeed("${sysupdate} update")
          labels = appliance.succeed("lsblk -nro PARTLABEL").split()
          for label in ["mamori-usr_1", "mamori-verity_1", "mamori-usr_2", "mamori-verity_2"]:
              assert label in labels, f"{label} missing from {labels}"
          assert "_empty" not in labels, labels
          assert uki_files(appliance) == ["mamori_1.efi", "mamori_2+3-0.efi"], uki_files(appliance)
          # Still version 1: the update waits for the power-cycle.
          assert image_version(appliance) == "1"

      with subtest("power-cycle: version 2 runs and is blessed"):
          appliance.shutdown()
          appliance.start()
          appliance.wait_for_unit("multi-user.target")
          assert image_version(appliance) == "2"
          appliance.succeed("dmsetup info --target verity usr | grep -q ACTIVE")
          appliance.wait_for_unit("mamori-health.service")
          appliance.wait_for_unit("systemd-bless-boot.service")
          assert appliance.succeed("${blessBoot} status").strip() == "good"
          assert uki_files(appliance) == ["mamori_1.efi", "mamori_2.efi"], uki_files(appliance)

      with subtest("a lower version is refused"):
          appliance.succeed("grep -q '^MinVersion=2' /etc/sysupdate.d/20-usr.transfer")
          publish("${v1}")
          # Whatever the exit status, nothing may be written.
          appliance.execute("${sysupdate} update")
          assert uki_files(appliance) == ["mamori_1.efi", "mamori_2.efi"], uki_files(appliance)
          assert image_version(appliance) == "2"

      with subtest("version 2 stays after another power-cycle"):
          appliance.shutdown()
          appliance.start()
          appliance.wait_for_unit("multi-user.target")
          assert image_version(appliance) == "2"
    '';
}
