//! The commented template of `tipx profile template`, in the four official languages. The
//! keys are the same in every language (they are the file's format); the comments are
//! translated. A test checks that each language's template reads as a valid profile.

/// A comment in en, es, fr and pt.
type Said = [&'static str; 4];

/// The template's lines: a comment, then the TOML it explains.
const LINES: &[(Said, &str)] = &[
    (
        [
            "National profile: the same facts from every member state, for the Secretariat's research and its report to the Permanent Council. Publish it with `tipx profile set --file profile.toml --audience OAS` (add your partners to share it with them too). Leave out what is unknown: a missing figure is shown as unknown, never as zero. Name institutions and roles, never a person.",
            "Perfil nacional: los mismos datos de cada Estado miembro, para la investigación de la Secretaría y su informe al Consejo Permanente. Publíquelo con `tipx profile set --file profile.toml --audience OAS` (añada a sus socios para compartirlo también con ellos). Omita lo que no se conozca: una cifra ausente se muestra como desconocida, nunca como cero. Indique instituciones y cargos, nunca a una persona.",
            "Profil national : les mêmes informations pour chaque État membre, pour les recherches du Secrétariat et son rapport au Conseil permanent. Publiez-le avec `tipx profile set --file profile.toml --audience OAS` (ajoutez vos partenaires pour le partager aussi avec eux). Omettez ce qui est inconnu : un chiffre absent est affiché comme inconnu, jamais comme zéro. Indiquez des institutions et des fonctions, jamais une personne.",
            "Perfil nacional: os mesmos dados de cada Estado membro, para a pesquisa da Secretaria e o seu relatório ao Conselho Permanente. Publique-o com `tipx profile set --file profile.toml --audience OAS` (acrescente os seus parceiros para compartilhá-lo também com eles). Omita o que não se sabe: um número ausente é mostrado como desconhecido, nunca como zero. Indique instituições e cargos, nunca uma pessoa.",
        ],
        "",
    ),
    (
        [
            "Language of the texts below: en, es, fr, pt.",
            "Idioma de los textos siguientes: en, es, fr, pt.",
            "Langue des textes ci-dessous : en, es, fr, pt.",
            "Idioma dos textos abaixo: en, es, fr, pt.",
        ],
        "language = \"{lang}\"",
    ),
    (
        [
            "Hotline for victims and witnesses (number or address).",
            "Línea de ayuda para víctimas y testigos (número o dirección).",
            "Ligne d'assistance pour les victimes et les témoins (numéro ou adresse).",
            "Linha de apoio para vítimas e testemunhas (número ou endereço).",
        ],
        "hotline = \"\"",
    ),
    (
        [
            "Number of shelters for victims.",
            "Número de albergues para víctimas.",
            "Nombre de foyers d'accueil pour les victimes.",
            "Número de abrigos para vítimas.",
        ],
        "# shelters = 0",
    ),
    (
        [
            "Is a victim-identification protocol in use? true or false.",
            "¿Se aplica un protocolo de identificación de víctimas? true o false.",
            "Un protocole d'identification des victimes est-il appliqué ? true ou false.",
            "Aplica-se um protocolo de identificação de vítimas? true ou false.",
        ],
        "# identification_protocol = true",
    ),
    (
        [
            "UN Trafficking (Palermo) Protocol: status none, signed, ratified or acceded, and the date of that step.",
            "Protocolo de Palermo sobre la trata de personas: estado none, signed, ratified o acceded, y la fecha de ese paso.",
            "Protocole de Palerme sur la traite des personnes : statut none, signed, ratified ou acceded, et la date de cette étape.",
            "Protocolo de Palermo sobre o tráfico de pessoas: situação none, signed, ratified ou acceded, e a data dessa etapa.",
        ],
        "[palermo]\n# status = \"ratified\"\n# date = \"2004-01-01\"",
    ),
    (
        [
            "The national coordination mechanism: does it exist, its name, the institution that leads it.",
            "El mecanismo nacional de coordinación: si existe, su nombre y la institución que lo dirige.",
            "Le mécanisme national de coordination : s'il existe, son nom, l'institution qui le dirige.",
            "O mecanismo nacional de coordenação: se existe, o seu nome e a instituição que o dirige.",
        ],
        "[mechanism]\n# exists = true\nname = \"\"\nlead = \"\"",
    ),
    (
        [
            "The national action plan in force: first and last year, and its title.",
            "El plan nacional de acción vigente: primer y último año, y su título.",
            "Le plan national d'action en vigueur : première et dernière année, et son titre.",
            "O plano nacional de ação em vigor: primeiro e último ano, e o seu título.",
        ],
        "# [action_plan]\n# from = 2024\n# to = 2028\n# title = \"\"",
    ),
    (
        [
            "The focal point's institutional contact: a role, an institution, an institutional address.",
            "El contacto institucional del punto focal: un cargo, una institución y una dirección institucional.",
            "Le contact institutionnel du point focal : une fonction, une institution, une adresse institutionnelle.",
            "O contato institucional do ponto focal: um cargo, uma instituição e um endereço institucional.",
        ],
        "[focal_point]\nrole = \"\"\ninstitution = \"\"\naddress = \"\"",
    ),
    (
        [
            "National laws against trafficking in persons: one [[laws]] block each.",
            "Leyes nacionales contra la trata de personas: un bloque [[laws]] por ley.",
            "Lois nationales contre la traite des personnes : un bloc [[laws]] par loi.",
            "Leis nacionais contra o tráfico de pessoas: um bloco [[laws]] por lei.",
        ],
        "# [[laws]]\n# title = \"…\"\n# year = 2012\n# reference = \"\"",
    ),
    (
        [
            "Statistics, one [[statistics]] block per year: victims identified (women, men, girls, boys, not disaggregated), forms of exploitation (sexual, labour, forced marriage, other), investigations, prosecutions, convictions. Leave out any figure that is unknown.",
            "Estadísticas, un bloque [[statistics]] por año: víctimas identificadas (mujeres, hombres, niñas, niños, sin desagregar), formas de explotación (sexual, laboral, matrimonio forzado, otras), investigaciones, procesamientos, condenas. Omita toda cifra desconocida.",
            "Statistiques, un bloc [[statistics]] par année : victimes identifiées (femmes, hommes, filles, garçons, non ventilées), formes d'exploitation (sexuelle, par le travail, mariage forcé, autres), enquêtes, poursuites, condamnations. Omettez tout chiffre inconnu.",
            "Estatísticas, um bloco [[statistics]] por ano: vítimas identificadas (mulheres, homens, meninas, meninos, não desagregadas), formas de exploração (sexual, laboral, casamento forçado, outras), investigações, processos, condenações. Omita qualquer número desconhecido.",
        ],
        "# [[statistics]]\n# year = 2025\n# investigations = 0\n# prosecutions = 0\n# convictions = 0\n# [statistics.victims]\n# women = 0\n# men = 0\n# girls = 0\n# boys = 0\n# not_disaggregated = 0\n# [statistics.exploitation]\n# sexual = 0\n# labour = 0\n# forced_marriage = 0\n# other = 0",
    ),
];

/// The template in `lang` (en, es, fr or pt).
pub(super) fn text(lang: &str) -> anyhow::Result<String> {
    let i = tipx_config::REPORT_LANGUAGES
        .iter()
        .position(|l| *l == lang)
        .ok_or_else(|| {
            anyhow::anyhow!("\"{lang}\" is not a template language: use en, es, fr or pt")
        })?;
    let mut out = String::new();
    for (said, toml) in LINES {
        for line in wrap(said[i], 88) {
            out.push_str("# ");
            out.push_str(&line);
            out.push('\n');
        }
        if !toml.is_empty() {
            out.push_str(&toml.replace("{lang}", lang));
            out.push('\n');
        }
        out.push('\n');
    }
    Ok(out.trim_end().to_string())
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let last = lines.last_mut().expect("one line");
        if !last.is_empty() && last.chars().count() + 1 + word.chars().count() > width {
            lines.push(word.to_string());
        } else {
            if !last.is_empty() {
                last.push(' ');
            }
            last.push_str(word);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use tipx_protocol::body::Profile;

    #[test]
    fn the_template_reads_as_a_profile_in_every_language_and_is_translated() {
        let mut seen = Vec::new();
        for lang in tipx_config::REPORT_LANGUAGES {
            let text = super::text(lang).unwrap();
            let p: Profile = toml::from_str(&text).unwrap_or_else(|e| panic!("{lang}: {e}"));
            assert_eq!(p.language, lang);
            assert_eq!(p.check(), Ok(()));
            // Uncommented, every example value reads too.
            let all: String = text
                .lines()
                .map(|l| match l.strip_prefix("# ") {
                    Some(rest) if rest.contains(" = ") || rest.starts_with('[') => rest,
                    _ => l,
                })
                .collect::<Vec<_>>()
                .join("\n");
            let full: Profile =
                toml::from_str(&all).unwrap_or_else(|e| panic!("{lang}: {e}\n{all}"));
            assert_eq!(full.check(), Ok(()), "{lang}");
            assert_eq!(full.statistics.len(), 1);
            seen.push(text);
        }
        for other in &seen[1..] {
            assert_ne!(other, &seen[0]);
        }
        assert!(
            super::text("de")
                .unwrap_err()
                .to_string()
                .contains("en, es, fr or pt")
        );
    }
}
