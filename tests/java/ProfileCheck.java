// Loads an ontology through the OWL API (the library Protege and ROBOT use) and reports
// everything that keeps it from being a clean OWL 2 DL ontology.
//
// Usage: java -cp <owlapi jars>:. ProfileCheck [--catalog catalog-v001.xml] ONTOLOGY_FILE
//
// The document format is taken from the file extension (.owl/.rdf RDF/XML, .ttl Turtle,
// .jsonld JSON-LD), since the OWL API's format guessing tries every parser in turn.
// With --catalog, every <uri name=".." uri=".."/> of the XML catalog is registered as an IRI
// mapping, as Protege does, and any import the catalog does not map fails the load (no web
// look-ups). Output, one finding per line, for tests/test_owlapi_profile.py:
//   parsed: <ontology IRI> version: <version IRI> format: <format>
//   imports-closure: <number of ontologies loaded>
//   counts: axioms=<n> logical=<n> classes=<n> object-properties=<n> data-properties=<n> individuals=<n>
//   unparsed-triple: <triple the RDF parser could not map to OWL>
//   violation: <violation type>: <description with the axiom>
//   violations: <n>
// Exit code: 0 parsed with no violation and no unparsed triple, 1 violations or unparsed
// triples, 2 the ontology or one of its imports could not be loaded.

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

import javax.xml.parsers.DocumentBuilderFactory;

import org.semanticweb.owlapi.apibinding.OWLManager;
import org.semanticweb.owlapi.formats.RDFJsonLDDocumentFormat;
import org.semanticweb.owlapi.formats.RDFXMLDocumentFormat;
import org.semanticweb.owlapi.formats.TurtleDocumentFormat;
import org.semanticweb.owlapi.io.FileDocumentSource;
import org.semanticweb.owlapi.model.IRI;
import org.semanticweb.owlapi.model.MissingImportHandlingStrategy;
import org.semanticweb.owlapi.model.OWLDocumentFormat;
import org.semanticweb.owlapi.model.OWLOntology;
import org.semanticweb.owlapi.model.OWLOntologyCreationException;
import org.semanticweb.owlapi.model.OWLOntologyIRIMapper;
import org.semanticweb.owlapi.model.OWLOntologyLoaderConfiguration;
import org.semanticweb.owlapi.model.OWLOntologyManager;
import org.semanticweb.owlapi.model.parameters.Imports;
import org.semanticweb.owlapi.profiles.OWL2DLProfile;
import org.semanticweb.owlapi.profiles.OWLProfileReport;
import org.semanticweb.owlapi.profiles.OWLProfileViolation;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

public final class ProfileCheck {

    private ProfileCheck() {
    }

    /** Reads an OASIS XML catalog: each uri element maps an IRI to a file beside the catalog. */
    static OWLOntologyIRIMapper catalogMapper(File catalog) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        Document document = factory.newDocumentBuilder().parse(catalog);
        NodeList uris = document.getElementsByTagNameNS("*", "uri");
        java.util.Map<String, IRI> mapping = new java.util.HashMap<>();
        File folder = catalog.getAbsoluteFile().getParentFile();
        for (int i = 0; i < uris.getLength(); i++) {
            Element uri = (Element) uris.item(i);
            File target = new File(folder, uri.getAttribute("uri"));
            mapping.put(uri.getAttribute("name"), IRI.create(target.getCanonicalFile()));
        }
        // An IRI the catalog does not map goes to a file that does not exist: the load fails
        // at once instead of looking the import up on the web.
        return iri -> mapping.getOrDefault(iri.toString(),
            IRI.create(new File(folder, "unmapped-by-catalog").getAbsoluteFile()));
    }

    /** The document format a file name's extension names, or null to let the OWL API guess. */
    static OWLDocumentFormat formatFor(File file) {
        String name = file.getName().toLowerCase(java.util.Locale.ROOT);
        if (name.endsWith(".jsonld") || name.endsWith(".json")) {
            return new RDFJsonLDDocumentFormat();
        }
        if (name.endsWith(".ttl")) {
            return new TurtleDocumentFormat();
        }
        if (name.endsWith(".owl") || name.endsWith(".rdf")) {
            return new RDFXMLDocumentFormat();
        }
        return null;
    }

    public static void main(String[] args) throws Exception {
        File catalog = null;
        File input = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--catalog") && i + 1 < args.length) {
                catalog = new File(args[++i]);
            } else {
                input = new File(args[i]);
            }
        }
        if (input == null) {
            System.err.println("usage: ProfileCheck [--catalog catalog-v001.xml] ONTOLOGY_FILE");
            System.exit(2);
        }

        OWLOntologyManager manager = OWLManager.createOWLOntologyManager();
        if (catalog != null) {
            manager.getIRIMappers().add(catalogMapper(catalog));
        }
        OWLOntologyLoaderConfiguration config = manager.getOntologyLoaderConfiguration()
            .setMissingImportHandlingStrategy(MissingImportHandlingStrategy.THROW_EXCEPTION)
            .setStrict(false);

        OWLOntology ontology;
        try {
            OWLDocumentFormat declared = formatFor(input);
            FileDocumentSource source = declared == null ? new FileDocumentSource(input) : new FileDocumentSource(input, declared);
            ontology = manager.loadOntologyFromOntologyDocument(source, config);
        } catch (OWLOntologyCreationException | org.semanticweb.owlapi.model.OWLRuntimeException e) {
            String message = String.valueOf(e.getMessage()).split("\n")[0];
            System.out.println("load-error: " + e.getClass().getSimpleName() + ": " + message);
            System.exit(2);
            return;
        }

        OWLDocumentFormat format = manager.getOntologyFormat(ontology);
        System.out.println("parsed: " + ontology.getOntologyID().getOntologyIRI().map(IRI::toString).orElse("(anonymous)")
            + " version: " + ontology.getOntologyID().getVersionIRI().map(IRI::toString).orElse("(none)")
            + " format: " + (format == null ? "?" : format.getKey()));
        System.out.println("imports-closure: " + ontology.importsClosure().count());
        System.out.println("counts: axioms=" + ontology.getAxiomCount(Imports.INCLUDED)
            + " logical=" + ontology.getLogicalAxiomCount(Imports.INCLUDED)
            + " classes=" + ontology.classesInSignature(Imports.INCLUDED).count()
            + " object-properties=" + ontology.objectPropertiesInSignature(Imports.INCLUDED).count()
            + " data-properties=" + ontology.dataPropertiesInSignature(Imports.INCLUDED).count()
            + " individuals=" + ontology.individualsInSignature(Imports.INCLUDED).count());

        int problems = 0;
        List<String> unparsed = new ArrayList<>();
        ontology.importsClosure().forEach(o -> {
            OWLDocumentFormat f = o.getOWLOntologyManager().getOntologyFormat(o);
            if (f != null && f.getOntologyLoaderMetaData().isPresent()) {
                f.getOntologyLoaderMetaData().get().getUnparsedTriples()
                    .forEach(t -> unparsed.add(t.toString()));
            }
        });
        for (String triple : unparsed.stream().sorted().collect(Collectors.toList())) {
            System.out.println("unparsed-triple: " + triple.replace('\n', ' '));
            problems++;
        }

        OWLProfileReport report = new OWL2DLProfile().checkOntology(ontology);
        List<String> lines = new ArrayList<>();
        for (OWLProfileViolation violation : report.getViolations()) {
            lines.add("violation: " + violation.getClass().getSimpleName() + ": "
                + violation.toString().replace('\n', ' '));
        }
        lines.stream().sorted().forEach(System.out::println);
        System.out.println("violations: " + lines.size());
        problems += lines.size();
        System.exit(problems == 0 ? 0 : 1);
    }
}
