package dev.mountkeeper.mount;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MountSpecsTest {
    @Test
    void parsesIsarSpecsIntoTypedValues() {
        assertThat(MountSpecs.parse("proc::/proc")).isEqualTo(
                new MountSpec.Filesystem(MountSpec.FsType.PROC, "", "/proc", MountOptions.NONE));
        var rbind = (MountSpec.Bind) MountSpecs.parse("rbind:/sys:/build/rootfs/sys");
        assertThat(rbind.recursive()).isTrue();
        assertThat(rbind.propagation()).isEqualTo(Propagation.SLAVE);
        var pbind = (MountSpec.Bind) MountSpecs.parse("pbind:/work:/build/rootfs/work");
        assertThat(pbind.recursive()).isFalse();
        assertThat(pbind.propagation()).isEqualTo(Propagation.PRIVATE);
        assertThat(((MountSpec.Bind) MountSpecs.parse("ro-bind:/usr:/usr")).readOnly()).isTrue();
    }

    @Test
    void escapesLetPathsContainColonsAndBackslashes() {
        var b = (MountSpec.Bind) MountSpecs.parse("bind:/a\\:b\\\\c:/x\\:y:ro");
        assertThat(b.source()).isEqualTo("/a:b\\c");
        assertThat(b.dest()).isEqualTo("/x:y");
        assertThat(MountSpecs.format(b)).isEqualTo("bind:/a\\:b\\\\c:/x\\:y:ro");
    }

    @Test
    void optionsAreTyped() {
        var t = (MountSpec.Filesystem) MountSpecs.parse("tmpfs::/tmp:size=64m,mode=1777,nosuid,private");
        assertThat(t.options().sizeBytes()).isEqualTo(64L << 20);
        assertThat(t.options().mode()).isEqualTo(01777);
        assertThat(t.options().nosuid()).isTrue();
        assertThat(t.options().propagation()).isEqualTo(Propagation.PRIVATE);
    }

    @Test
    void destinationsAreNormalised() {
        assertThat(MountSpecs.parse("dir::/d//e/./f/").dest()).isEqualTo("/d/e/f");
    }

    /** Security test 19: every malformed spec is refused with the spec quoted and the reason. */
    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', quoteCharacter = '\'', value = {
            "''                         | the spec is empty",
            "proc                       | expected TYPE:SOURCE:DEST[:OPTIONS], found 1 field",
            "proc:/proc                 | found 2 fields",
            "a:b:c:d:e                  | found 5 fields",
            "bogus::/x                  | unknown type \"bogus\"",
            ":/a:/b                     | the type is empty",
            "bind::/x                   | type \"bind\" needs a source",
            "bind:/a:                   | the destination is empty",
            "bind:relative:/x           | source \"relative\" is not an absolute path",
            "bind:/a:relative           | destination \"relative\" is not an absolute path",
            "bind:/a:/x/../../etc       | contains \"..\"",
            "proc::/proc:bogus          | unknown option \"bogus\"",
            "proc::/proc:               | the options field is empty",
            "proc::/proc:ro,,nosuid     | an option is empty",
            "proc::/proc:ro,ro          | option \"ro\" is given twice",
            "bind:/a:/b:private,shared  | contradict each other",
            "proc::/proc:recursive      | option \"recursive\" only applies to binds",
            "proc::/proc:try            | option \"try\" only applies to binds",
            "proc::/proc:size=1m        | option \"size\" does not apply to \"proc\"",
            "tmpfs::/t:size=lots        | is not a number of bytes",
            "tmpfs::/t:size=0           | is out of range",
            "tmpfs::/t:size=99999999999g | is out of range",
            "tmpfs::/t:mode=999         | is not an octal mode",
            "dir::/d:ro                 | takes no mount flags",
            "dir:/src:/d                | type \"dir\" takes no source",
            "dev:/x:/dev                | type \"dev\" takes no source",
            "symlink::/l                | type \"symlink\" needs a source",
            "bind:/a\\x:/b              | unknown escape",
            "bind:/a:/b\\               | lone",
    })
    void malformedSpecsAreRefusedWithTheirReason(String spec, String reason) {
        assertThatThrownBy(() -> MountSpecs.parse(spec == null ? "" : spec))
                .isInstanceOf(InvalidSpecException.class)
                .hasMessageStartingWith("Invalid mount spec \"" + (spec == null ? "" : spec.replace("\\", "\\\\")) + "\": ")
                .hasMessageContaining(reason);
    }

    @Test
    void nulBytesAndOverlongPathsAreRefused() {
        assertThatThrownBy(() -> MountSpecs.parse("bind:/a\0b:/c")).hasMessageContaining("NUL");
        assertThatThrownBy(() -> MountSpecs.parse("tmpfs::/" + "a".repeat(256))).hasMessageContaining("longer than 255");
        assertThatThrownBy(() -> MountSpecs.parse("tmpfs::" + "/aaaaaaa".repeat(600))).hasMessageContaining("longer than 4095");
    }

    @Property(tries = 2000)
    void formattingThenParsingGivesTheSameSpec(@ForAll("specs") MountSpec spec) {
        assertThat(MountSpecs.parse(MountSpecs.format(spec))).isEqualTo(spec);
    }

    @Provide
    Arbitrary<MountSpec> specs() {
        Arbitrary<String> name = Arbitraries.strings().withChars("abz09._-:\\ é").ofMinLength(1).ofMaxLength(8)
                .filter(s -> !s.equals(".") && !s.equals(".."));
        Arbitrary<String> path = name.list().ofMinSize(1).ofMaxSize(4).map(l -> "/" + String.join("/", l));
        Arbitrary<Propagation> prop = Arbitraries.of(Propagation.class).injectNull(0.5);
        Arbitrary<Long> size = Arbitraries.longs().between(1, 1L << 40).injectNull(0.5);
        Arbitrary<Integer> mode = Arbitraries.integers().between(0, 07777).injectNull(0.5);
        Arbitrary<Boolean> bool = Arbitraries.of(true, false);
        Arbitrary<MountOptions> flags = Combinators.combine(bool, bool, bool, bool, prop)
                .as((a, b, c, d, p) -> new MountOptions(a, b, c, d, p, false, false, null, null));
        Arbitrary<MountSpec> binds = Combinators.combine(Arbitraries.of(MountSpec.BindType.class), path, path, flags, bool, bool)
                .as((t, s, d, o, rec, opt) -> new MountSpec.Bind(t, s, d, new MountOptions(o.readOnly(), o.nosuid(),
                        o.nodev(), o.noexec(), o.propagation(), rec, opt, null, null)));
        Arbitrary<MountSpec> fs = Combinators.combine(Arbitraries.of(MountSpec.FsType.class), name.injectNull(0.5), path, flags, size, mode)
                .as((t, label, d, o, sz, md) -> new MountSpec.Filesystem(t, label == null ? "" : label, d,
                        t == MountSpec.FsType.TMPFS ? new MountOptions(o.readOnly(), o.nosuid(), o.nodev(), o.noexec(),
                                o.propagation(), false, false, sz, md) : o));
        Arbitrary<MountSpec> dev = Combinators.combine(path, flags, size, mode).as((d, o, sz, md) -> new MountSpec.Dev(d,
                new MountOptions(o.readOnly(), o.nosuid(), o.nodev(), o.noexec(), o.propagation(), false, false, sz, md)));
        Arbitrary<MountSpec> dir = Combinators.combine(path, mode).as((d, md) -> new MountSpec.Dir(d,
                new MountOptions(false, false, false, false, null, false, false, null, md)));
        Arbitrary<MountSpec> link = Combinators.combine(name, path).as(MountSpec.Symlink::new);
        return Arbitraries.oneOf(binds, fs, dev, dir, link);
    }
}
