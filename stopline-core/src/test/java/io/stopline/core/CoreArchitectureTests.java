package io.stopline.core;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideOutsideOfPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The core's boundaries: its packages form no cycle, the Redis schema sits at the bottom
 * and the protocol (the messages on the wire) knows no implementation.
 */
@AnalyzeClasses(packages = { "io.stopline.core", "io.stopline.protocol" },
		importOptions = ImportOption.DoNotIncludeTests.class)
class CoreArchitectureTests {

	/**
	 * Every package is a slice ({@code core}, {@code core.run}, ..., {@code protocol}).
	 */
	@ArchTest
	static final ArchRule noCyclesBetweenPackages = slices().matching("io.stopline.(**)").should().beFreeOfCycles();

	@ArchTest
	static final ArchRule schemaDependsOnNothingAboveIt = classes().that()
		.resideInAPackage("io.stopline.core.schema..")
		.should()
		.onlyDependOnClassesThat(
				resideInAPackage("io.stopline.core.schema..").or(resideOutsideOfPackage("io.stopline..")));

	@ArchTest
	static final ArchRule protocolDependsOnNoImplementation = classes().that()
		.resideInAPackage("io.stopline.protocol..")
		.should()
		.onlyDependOnClassesThat(
				resideInAPackage("io.stopline.protocol..").or(resideOutsideOfPackage("io.stopline..")));

}
