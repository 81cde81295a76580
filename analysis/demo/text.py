"""French text bank of the demo data set: per theme × tone templates with slots.

Kept apart from the simulation (:mod:`analysis.demo.simulation`) so the generator stays readable. Every template is
labelled by construction (theme, tone, question, hostile, language): the demo ground truth
is the label of the template a message was drawn from.
"""

from __future__ import annotations

THEMES: tuple[str, ...] = (
    "economie_emploi", "tourisme_patrimoine", "culture_evenements", "cadre_de_vie_environnement",
    "mobilite_transports", "travaux_urbanisme", "services_publics_demarches", "sport_loisirs",
    "jeunesse_education", "solidarite_sante", "securite_tranquillite", "vie_citoyenne",
)

# Subjects per theme: what people talk about. "{t}" is replaced by the territory short name.
SUBJECTS: dict[str, list[str]] = {
    "economie_emploi": ["le forum de l'emploi", "la nouvelle zone d'activités", "le marché du samedi",
                        "les commerces du centre-ville", "la pépinière d'entreprises", "le salon des artisans",
                        "les offres d'emploi saisonnier", "la boutique éphémère"],
    "tourisme_patrimoine": ["l'office de tourisme", "la visite guidée du château", "l'église Saint-Martin",
                            "les bords de Loire", "le musée municipal", "le circuit patrimoine",
                            "la maison des vins", "le vieux pont"],
    "culture_evenements": ["le festival d'été", "le marché de Noël", "la fête de la musique",
                           "le concert au parc", "la médiathèque", "le cinéma plein air", "le feu d'artifice",
                           "l'exposition à la galerie"],
    "cadre_de_vie_environnement": ["les espaces verts", "la propreté des rues", "le tri des déchets",
                                   "l'eau du robinet", "les arbres du mail", "le jardin partagé",
                                   "la collecte des encombrants", "les fleurs des ronds-points"],
    "mobilite_transports": ["la ligne de bus 3", "les pistes cyclables", "le parking de la gare",
                            "le stationnement en centre-ville", "la navette du marché", "les horaires du TER",
                            "les vélos en libre-service", "la zone 30"],
    "travaux_urbanisme": ["les travaux de la rue Nationale", "le chantier de la place", "le nouveau quartier",
                          "la réfection des trottoirs", "le PLU", "la rénovation de l'école",
                          "les travaux du pont", "le permis de construire"],
    "services_publics_demarches": ["la mairie", "l'état civil", "le service des cartes d'identité",
                                   "la déchetterie", "le standard de la mairie", "le site de la ville",
                                   "le guichet unique", "les horaires d'ouverture"],
    "sport_loisirs": ["la piscine", "le stade", "le club de foot", "la salle de sport", "le skatepark",
                      "le parcours santé", "la base nautique", "le tournoi de pétanque"],
    "jeunesse_education": ["la cantine", "le centre de loisirs", "les inscriptions scolaires",
                           "le conseil municipal des jeunes", "la crèche", "le périscolaire",
                           "les colonies d'été", "l'espace jeunes"],
    "solidarite_sante": ["le CCAS", "la maison de santé", "la banque alimentaire", "le plan canicule",
                         "la vaccination", "les visites aux aînés", "le don du sang", "le portage de repas"],
    "securite_tranquillite": ["la police municipale", "les rodéos urbains", "l'éclairage public",
                              "la vidéoprotection", "les incivilités", "le bruit la nuit",
                              "les cambriolages", "la sécurité devant l'école"],
    "vie_citoyenne": ["le conseil municipal", "le budget participatif", "la réunion publique",
                      "les élections", "le conseil de quartier", "la consultation citoyenne",
                      "les associations", "le bénévolat"],
}

# Generic frames; {s} = subject, {S} = capitalised subject, {t} = territory short name.
POSITIVE = [
    "Super {s} 👏", "Bravo pour {s} !", "{S}, vraiment top 😍", "Merci à toute l'équipe pour {s} 🙏",
    "Franchement {s} c'est pas mal du tout", "J'adore {s} ❤️", "{S} était génial, on reviendra !",
    "Trop bien {s} !!!", "Quelle belle réussite {s} 👍", "{S} : enfin une bonne nouvelle pour {t} 😊",
    "Très contente de {s}, merci la mairie", "C'est troooop bien {s} 🤩", "Rien à redire sur {s}, parfait",
    "Fière de {t} quand je vois {s} ✨", "{S} au top comme d'hab 👌", "On a passé un super moment, merci !",
    "Belle initiative, {s} c'est exactement ce qu'il fallait", "Merciii pour {s} 😍😍",
]
NEGATIVE = [
    "{S} c'est pas terrible...", "Franchement {s} c'est n'importe quoi", "Toujours pas de réponse pour {s} 😡",
    "Déçu par {s}, vraiment", "{S} ? Une honte pour {t}", "Encore des problèmes avec {s}, ras le bol",
    "C'est pas normal {s}, ça dure depuis des mois", "{S} laisse vraiment à désirer 👎",
    "Aucun effort sur {s}, comme d'habitude", "Pas du tout satisfaite de {s}", "Nul {s}, on paye pour ça ?",
    "{S}, c'est de pire en pire", "Franchement déçue, {s} ne fonctionne pas", "Ça ne va pas du tout {s} 😤",
    "Quelle galère {s}…", "{S} : zéro communication de la mairie",
]
NEUTRAL = [
    "{S} est prévu quand ?", "Infos sur {s} en bio", "Quelqu'un a des nouvelles de {s} ?",
    "Pour info {s} change d'horaires la semaine prochaine", "{S} c'est ce week-end", "Partagé 👍",
    "On en parlait hier avec les voisins, {s}", "Je transmets à ma mère pour {s}", "Vu sur le panneau : {s}",
    "{S} concerne aussi les quartiers nord ?", "Ok merci pour l'info", "Il faut s'inscrire pour {s} ?",
]
QUESTIONS = [
    "À quelle heure ouvre {s} ?", "C'est gratuit {s} ?", "Comment on s'inscrit pour {s} ?",
    "{S} c'est ouvert le dimanche ?", "Où trouver les infos sur {s} ?", "Est-ce que {s} est accessible en fauteuil ?",
    "Quand est-ce que {s} reprend ?", "Bonjour, qui contacter pour {s} ?", "Y a-t-il un parking près de {s} ?",
]
NEG_QUESTIONS = [
    "Pourquoi {s} est encore fermé ???", "Quand allez-vous enfin régler {s} ?", "C'est quand qu'on s'occupe de {s} ?",
    "Qui est responsable de {s} ? On attend toujours...", "Vous comptez faire quelque chose pour {s} ?",
]
ANGRY_CAPS = [
    "{S} C'EST UNE HONTE", "RAS LE BOL DE {S} !!!", "TOUJOURS RIEN POUR {S}, INADMISSIBLE",
    "ON EN A MARRE DE {S}",
]
# Hostile / insulting messages (~1.5 %): moderation must find them. Mild French insults only.
HOSTILE = [
    "Bande d'incapables, {s} c'est du grand n'importe quoi", "Le maire est un guignol, {s} en est la preuve",
    "Vous êtes des nuls, dégagez tous", "Espèce d'abrutis, {s} encore raté", "Bande de bras cassés à la mairie",
    "Incompétents et menteurs, {s} on s'en souviendra", "Ferme-la et démissionne, bouffon",
    "Des crétins au conseil municipal, voilà le résultat pour {s}",
]
# English messages from tourists (~2 %), mostly tourism / culture.
EN_POSITIVE = ["Lovely town, we loved {e}!", "Great stay, {e} was amazing 😍", "Beautiful place, thanks for the tips",
               "Such a charming town, {e} is a must-see"]
EN_NEUTRAL = ["Is {e} open on Sundays?", "How do we get to {e} from the station?", "Any English tours of {e}?"]
EN_NEGATIVE = ["Disappointed, {e} was closed when we came", "Hard to find parking near {e}"]
EN_SUBJECTS = ["the old bridge", "the castle tour", "the riverside", "the Christmas market", "the museum",
               "the summer festival", "the wine house"]

EMOJIS_POS = ["😍", "👏", "👍", "❤️", "😊", "🙏", "✨", "☀️", "🎉"]
EMOJIS_NEG = ["😡", "👎", "😤", "🙄", "😠", "💩"]

# Official post captions per theme: {t} territory name, {h} hashtags.
POST_TEMPLATES: dict[str, list[str]] = {
    "economie_emploi": ["💼 Forum de l'emploi ce jeudi à la salle des fêtes : plus de 40 entreprises recrutent à {t} ! {h}",
                        "Nos commerçants vous attendent : découvrez les nouvelles boutiques du centre-ville de {t}. {h}",
                        "Zone d'activités : trois nouvelles entreprises s'installent, 60 emplois à la clé. {h}"],
    "tourisme_patrimoine": ["🏰 Visites guidées du patrimoine de {t} tout l'été, inscriptions à l'office de tourisme. {h}",
                            "Les bords de Loire vous attendent : balades, guinguettes et couchers de soleil. {h}",
                            "Le musée municipal rouvre ses portes avec une nouvelle collection. {h}"],
    "culture_evenements": ["🎶 Ce week-end à {t} : concerts, marché nocturne et feu d'artifice ! {h}",
                           "La médiathèque propose un atelier lecture pour tous les âges samedi. {h}",
                           "🎄 Le marché de Noël ouvre vendredi sur la place de la mairie. {h}"],
    "cadre_de_vie_environnement": ["🌳 300 arbres plantés cet hiver dans les quartiers de {t}. Merci aux bénévoles ! {h}",
                                   "Collecte des encombrants : calendrier par quartier sur le site de la ville. {h}",
                                   "Fleurissement : {t} garde ses trois fleurs au label Villes et Villages fleuris. {h}"],
    "mobilite_transports": ["🚲 Nouvelle piste cyclable entre la gare et le centre, ouverte dès lundi. {h}",
                            "Travaux sur la ligne de bus 3 : arrêts déplacés jusqu'au 15. {h}",
                            "Stationnement : la première heure devient gratuite en centre-ville de {t}. {h}"],
    "travaux_urbanisme": ["🚧 Travaux rue Nationale : circulation alternée du 3 au 21. Merci de votre patience. {h}",
                          "Réunion publique sur le projet de nouveau quartier mardi à 18 h 30. {h}",
                          "La rénovation de l'école Jules-Ferry avance : point d'étape en images. {h}"],
    "services_publics_demarches": ["📄 Cartes d'identité et passeports : prenez rendez-vous en ligne sur le site de {t}. {h}",
                                   "La mairie sera fermée lundi (jour férié). Permanence état civil samedi matin. {h}",
                                   "Nouveau : le guichet unique regroupe toutes vos démarches au rez-de-chaussée. {h}"],
    "sport_loisirs": ["🏊 La piscine passe à l'horaire d'été : ouverte de 10 h à 20 h tous les jours. {h}",
                      "Bravo au club de foot de {t} pour sa montée en régional 1 ! ⚽ {h}",
                      "Le nouveau skatepark est ouvert : venez l'essayer ! {h}"],
    "jeunesse_education": ["🎒 Inscriptions scolaires ouvertes jusqu'au 30 : dossier en ligne. {h}",
                           "Le conseil municipal des jeunes a voté ses projets pour l'année. {h}",
                           "Centre de loisirs : programme des vacances disponible. {h}"],
    "solidarite_sante": ["❤️ Plan canicule : inscrivez vos proches isolés auprès du CCAS. {h}",
                         "Collecte de la banque alimentaire ce week-end dans les supermarchés de {t}. {h}",
                         "La maison de santé accueille deux nouveaux médecins généralistes. {h}"],
    "securite_tranquillite": ["👮 La police municipale renforce ses patrouilles le soir en centre-ville. {h}",
                              "Opération tranquillité vacances : signalez votre absence à la police municipale. {h}",
                              "Éclairage public : passage aux LED dans trois quartiers de {t}. {h}"],
    "vie_citoyenne": ["🗳️ Conseil municipal jeudi à 19 h, en direct sur notre page. {h}",
                      "Budget participatif : votez pour vos projets préférés jusqu'au 15 ! {h}",
                      "Forum des associations samedi au gymnase : plus de 80 associations de {t}. {h}"],
}

# Crisis (own territory, tap water declared non-potable).
CRISIS_SUBJECTS = ["l'eau du robinet", "l'eau non potable", "la distribution de bouteilles", "la qualité de l'eau",
                   "l'info sur l'eau"]
CRISIS_NEGATIVE = [
    "Eau non potable depuis 3 jours et toujours aucune info claire 😡 #EauSaintAubin",
    "Comment on fait pour le biberon du petit avec l'eau non potable ??? #EauSaintAubin",
    "L'EAU NON POTABLE ET PERSONNE NE RÉPOND À LA MAIRIE #EauSaintAubin",
    "Distribution de bouteilles : 2 h de queue, c'est n'importe quoi #EauSaintAubin",
    "On paye l'eau pour ne pas pouvoir la boire, bravo... #EauSaintAubin",
    "Toujours pas d'eau potable, quand est-ce que ça se termine ? #EauSaintAubin",
    "Les personnes âgées ne peuvent pas porter des packs d'eau, que fait le CCAS ? #EauSaintAubin",
    "Eau non potable : la mairie savait depuis quand ? On veut la vérité #EauSaintAubin",
    "Ras le bol de cette histoire d'eau, aucune transparence #EauSaintAubin",
    "Franchement la gestion de la crise de l'eau est catastrophique 👎 #EauSaintAubin",
]
CRISIS_NEUTRAL = [
    "Où sont les points de distribution d'eau aujourd'hui ? #EauSaintAubin",
    "On peut utiliser l'eau pour la douche ou pas ? #EauSaintAubin",
    "Info : distribution de bouteilles au gymnase jusqu'à 19 h #EauSaintAubin",
]
CRISIS_POSITIVE = [
    "Merci aux bénévoles de la distribution d'eau, au top 🙏 #EauSaintAubin",
    "Bravo aux agents qui tiennent les points d'eau malgré la pluie #EauSaintAubin",
]
CRISIS_POSTS = [
    "⚠️ Eau non potable à {t} : ne consommez pas l'eau du robinet jusqu'à nouvel ordre. Distribution de bouteilles au gymnase. #EauSaintAubin",
    "Point de situation eau : analyses en cours, l'eau reste non potable. Points de distribution mis à jour. #EauSaintAubin",
    "Eau non potable : les personnes vulnérables peuvent demander une livraison au CCAS. #EauSaintAubin",
]

# Official replies (our account answers questions and complaints).
OFFICIAL_REPLIES = [
    "Bonjour, merci pour votre message. Nous transmettons au service concerné.",
    "Bonjour, toutes les informations sont sur le site de la ville, rubrique Démarches.",
    "Bonjour, pouvez-vous nous écrire en message privé afin que nous puissions vous répondre précisément ?",
    "Merci pour votre retour, le service technique intervient cette semaine.",
    "Bonjour, c'est ouvert du lundi au vendredi de 9 h à 17 h. Bonne journée !",
    "Nous comprenons votre agacement, une solution est à l'étude. Merci de votre patience.",
]

# Local press (RSS/Atom items): title + chapô. {T} territory name, {s} subject, {S} capitalised subject.
# Titles follow the regional dailies' habit « Ville : fait » ; tone is the article's, not the town's.
PRESS_TITLES = {  # no verb agrees with {s} (« les pistes cyclables » as well as « le stade »)
    "positive": ["{T} : carton plein pour {s}", "{T} : succès pour {s}", "À {T}, les habitants conquis par {s}",
                 "{T} : une réussite saluée pour {s}", "{T} : belle affluence pour {s}"],
    "neutral": ["{T} : ce qui change pour {s}", "{T} : le point sur {s}", "{T} : {s}, mode d'emploi",
                "{T} : le conseil municipal se penche sur {s}", "{T} : {s} au programme de la semaine",
                "{T} : une réunion publique consacrée à {s}"],
    "negative": ["{T} : la grogne monte autour de {s}", "{T} : inquiétudes autour de {s}",
                 "Polémique à {T} autour de {s}", "{T} : l'opposition dénonce le retard pris sur {s}",
                 "{T} : des riverains en colère contre {s}"],
}
PRESS_SUMMARIES = {
    "positive": ["Habitants et visiteurs ont répondu présent ce week-end. La municipalité envisage déjà de "
                 "renouveler l'opération l'an prochain.",
                 "Un bilan très positif pour {s}, selon les organisateurs, qui remercient les bénévoles.",
                 "« On n'attendait pas autant de monde », se réjouit l'adjointe chargée du dossier."],
    "neutral": ["La municipalité a présenté {s} lors de la dernière séance. Calendrier, coût et premières "
                "réactions.", "Horaires, inscriptions, accès : tout ce qu'il faut savoir sur {s}.",
                "Le dossier de {s} sera examiné en commission avant un vote prévu le mois prochain."],
    "negative": ["Pétition, réunion houleuse : plusieurs habitants jugent la situation de {s} intenable et "
                 "réclament des réponses de la mairie.",
                 "L'opposition municipale dénonce un manque de concertation sur {s}. La mairie promet des "
                 "annonces « rapidement ».",
                 "Depuis plusieurs semaines, les plaintes se multiplient au sujet de {s}."],
}
# The water crisis as the local daily covers it ({T} the own territory's name).
PRESS_CRISIS = {
    "negative": [("Eau non potable à {T} : la colère des habitants monte",
                  "Files d'attente aux points de distribution, informations jugées tardives : les habitants "
                  "réclament des comptes à la mairie."),
                 ("{T} : toujours pas d'eau potable, les commerçants s'inquiètent",
                  "Restaurateurs et boulangers doivent acheter de l'eau en bouteille. Certains parlent de "
                  "pertes importantes."),
                 ("Crise de l'eau à {T} : l'opposition réclame une commission d'enquête",
                  "Les élus d'opposition dénoncent une communication défaillante et demandent la publication "
                  "des analyses.")],
    "neutral": [("Eau non potable à {T} : où trouver des bouteilles",
                 "La mairie a ouvert trois points de distribution. Les personnes vulnérables peuvent être livrées "
                 "par le CCAS."),
                ("{T} : les analyses de l'eau se poursuivent",
                 "L'agence régionale de santé attend de nouveaux résultats avant de lever l'interdiction.")],
    "positive": [("{T} : l'eau du robinet redevient potable",
                  "Fin des restrictions : l'agence régionale de santé a levé l'interdiction de consommation. La "
                  "mairie remercie les bénévoles.")],
}
# Journalists' names appear in feeds (dc:creator, author): Vigie never stores them.
JOURNALISTS = ["Anne Lefèvre", "Karim Benali", "Sophie Roux", "Thomas Marchand", "Élise Girard", "Paul Texier"]
